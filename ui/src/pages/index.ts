import type { FunctionComponent } from 'preact';
import type { Route } from '../router.ts';
import type { Permission } from '../session.ts';
import { DashboardPage } from './dashboard-page.tsx';
import { GroupsPage } from './groups-page.tsx';
import { HistoryPage } from './history-page.tsx';
import { HostsPage } from './hosts-page.tsx';
import { ImagesPage } from './images-page.tsx';
import { NotFoundPage } from './not-found-page.tsx';
import { StorageNodesPage } from './storage-nodes-page.tsx';
import { TasksPage } from './tasks-page.tsx';
import { UsersPage } from './users-page.tsx';

export interface PageProps {
  route: Route;
}

export interface PageEntry {
  title: string;
  component: FunctionComponent<PageProps>;
  /** Shown in the navigation. */
  nav: boolean;
  /** Hidden from roles without it (the API refuses them anyway). */
  permission?: Permission;
}

/** Every page by the first part of its hash route. */
export const PAGES: Record<string, PageEntry> = {
  dashboard: { title: 'Dashboard', component: DashboardPage, nav: true },
  hosts: { title: 'Hosts', component: HostsPage, nav: true },
  tasks: { title: 'Tasks', component: TasksPage, nav: true },
  groups: { title: 'Groups', component: GroupsPage, nav: true },
  images: { title: 'Images', component: ImagesPage, nav: true },
  'storage-nodes': { title: 'Storage nodes', component: StorageNodesPage, nav: true },
  history: { title: 'History', component: HistoryPage, nav: true },
  users: { title: 'Users', component: UsersPage, nav: true, permission: 'users:manage' },
};

export { NotFoundPage };
