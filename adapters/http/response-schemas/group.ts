import { arrayOf, dateTime, integer, orNull, page, shape, shared, string } from './schema-kit.ts';

const groupProperties = {
  id: string,
  name: string,
  description: string,
  imageId: { ...orNull(string), description: 'the image group deploys use before each host\'s own' },
  memberCount: integer,
  createdAt: dateTime,
  updatedAt: dateTime,
  version: integer,
};

export const Group = shared('Group', shape(groupProperties));

/** A group with its members' ids (GET /api/groups/:id and the group commands). */
export const GroupDetail = shared('GroupDetail', shape({ ...groupProperties, memberIds: arrayOf(string) }));

export const GroupPage = page('GroupPage', Group, false);

export const groupSchemas = [Group, GroupDetail, GroupPage];
