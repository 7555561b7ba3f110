/**
 * What kind of network-boot client sent a DHCP packet, and which boot file
 * (or URL) it should get. Pure: the DHCP responder passes the raw option
 * values in and puts the answer in its reply.
 *
 * Facts (RFC 4578, UEFI 2.x, iPXE): option 93 carries the client system
 * architecture; option 60 starts with "PXEClient" for PXE ROMs and
 * "HTTPClient" for UEFI HTTP boot, whose Arch field repeats option 93;
 * iPXE sends user class (option 77) "iPXE".
 */

/** The firmware families brume has a boot file for. */
export type Firmware = 'bios' | 'efi32' | 'efi64' | 'arm64' | 'arm32' | 'unknown';

/** `pxe`: option 60 starts with PXEClient; `http`: HTTPClient; `other`: anything else (an ordinary DHCP client). */
export type VendorClass = 'pxe' | 'http' | 'other';

export interface BootClient {
  /** The architecture type the client announced (option 93, else the Arch field of option 60); null when neither. */
  arch: number | null;
  firmware: Firmware;
  vendorClass: VendorClass;
  /** iPXE is asking (user class "iPXE"): it can fetch its boot script over HTTP. */
  ipxe: boolean;
}

/** The DHCP options the classification reads, as the packet parser returns them. */
export interface ClientOptions {
  /** Option 93: one or more 16-bit architecture types. */
  arch?: readonly number[] | null | undefined;
  /** Option 60. */
  vendorClass?: string | null | undefined;
  /** Option 77, raw bytes. */
  userClass?: readonly number[] | null | undefined;
}

/** Boot files per firmware family; null means "not served" (the client then gets no boot answer). */
export interface BootFiles {
  bios: string;
  efi32: string | null;
  efi64: string;
  arm64: string | null;
}

/** Where a client should fetch its next stage: a file name on the TFTP server, or a full URL. */
export type BootFileAnswer = { kind: 'tftp'; file: string } | { kind: 'url'; url: string };

// RFC 4578 / IANA "Processor Architecture Types". 15/16 and 18/19 are the
// UEFI HTTP-boot variants of 6/7 and 10/11.
const FIRMWARE_BY_ARCH: ReadonlyMap<number, Firmware> = new Map<number, Firmware>([
  [0, 'bios'], [6, 'efi32'], [7, 'efi64'], [9, 'efi64'], [10, 'arm32'], [11, 'arm64'],
  [15, 'efi32'], [16, 'efi64'], [18, 'arm32'], [19, 'arm64'],
]);

const ARCH_IN_VENDOR_CLASS = /^(?:PXEClient|HTTPClient):Arch:(\d{5})/;
const IPXE = 'iPXE';

/**
 * Reads options 93, 60 and 77 into a client kind.
 *
 * @example
 * classifyClient({ arch: [7], vendorClass: 'PXEClient:Arch:00007:UNDI:003016' })
 * // { arch: 7, firmware: 'efi64', vendorClass: 'pxe', ipxe: false }
 */
export function classifyClient(options: ClientOptions): BootClient {
  const vendor = options.vendorClass ?? '';
  const vendorClass: VendorClass = vendor.startsWith('PXEClient') ? 'pxe' : vendor.startsWith('HTTPClient') ? 'http' : 'other';
  let arch: number | null = options.arch && options.arch.length > 0 ? options.arch[0]! : null;
  if (arch === null) {
    const match = ARCH_IN_VENDOR_CLASS.exec(vendor);
    if (match) arch = Number(match[1]);
  }
  // PXE 2.1 ROMs from before RFC 4578 send no architecture at all; they are all x86 BIOS.
  const firmware: Firmware = arch === null ? (vendorClass === 'pxe' ? 'bios' : 'unknown') : (FIRMWARE_BY_ARCH.get(arch) ?? 'unknown');
  return { arch, firmware, vendorClass, ipxe: isIpxeUserClass(options.userClass) };
}

/**
 * iPXE sends the bare string "iPXE" (not RFC 3004's length-prefixed list);
 * accept both forms so a relay or firmware that re-encodes it still counts.
 */
function isIpxeUserClass(bytes: readonly number[] | null | undefined): boolean {
  if (!bytes || bytes.length === 0) return false;
  if (ascii(bytes) === IPXE) return true;
  for (let i = 0; i < bytes.length;) {
    const length = bytes[i]!;
    if (length === 0 || i + 1 + length > bytes.length) return false;
    if (ascii(bytes.slice(i + 1, i + 1 + length)) === IPXE) return true;
    i += 1 + length;
  }
  return false;
}

const ascii = (bytes: readonly number[]) => String.fromCharCode(...bytes);

export interface BootFileContext {
  files: BootFiles;
  /** brume's HTTP base URL, e.g. `http://192.0.2.1:8080` (a trailing slash is ignored). */
  httpBaseUrl: string;
  /** The client's MAC, lowercase with colons. */
  mac: string;
}

/**
 * The boot answer for a client, or null when it is not a network-boot client
 * or brume has no file for its firmware.
 *
 * - iPXE gets the URL of its boot script; `${buildarch}` and `${platform}`
 *   are left for iPXE to expand, so one URL serves every iPXE build.
 * - UEFI HTTP boot gets the URL of the EFI file (it cannot use TFTP).
 * - PXE ROMs get the file name to fetch by TFTP.
 *
 * @example
 * bootFileFor(classifyClient({ arch: [0], vendorClass: 'PXEClient' }), { files, httpBaseUrl, mac })
 * // { kind: 'tftp', file: 'undionly.kpxe' }
 */
export function bootFileFor(client: BootClient, context: BootFileContext): BootFileAnswer | null {
  const base = context.httpBaseUrl.replace(/\/+$/, '');
  if (client.ipxe) {
    // Deliberately literal: iPXE substitutes its own settings into the filename.
    const query = `mac=${context.mac.toLowerCase()}&arch=\${buildarch}&platform=\${platform}`;
    return { kind: 'url', url: `${base}/boot/ipxe?${query}` };
  }
  if (client.vendorClass === 'other') return null;
  const file = fileFor(client.firmware, context.files);
  if (file === null) return null;
  if (client.vendorClass === 'http') return { kind: 'url', url: `${base}/boot/files/${encodeURI(file)}` };
  return { kind: 'tftp', file };
}

function fileFor(firmware: Firmware, files: BootFiles): string | null {
  switch (firmware) {
    case 'bios': return files.bios;
    case 'efi32': return files.efi32;
    case 'efi64': return files.efi64;
    case 'arm64': return files.arm64;
    default: return null;
  }
}
