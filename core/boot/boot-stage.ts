/**
 * The stages a network boot goes through, as brume's responders see them.
 * `dhcp`/`proxy-dhcp`: the machine asked for an address or boot information;
 * `tftp`: it fetched a boot file; `script`: iPXE fetched its boot script;
 * `http-file`: it fetched a boot file over HTTP (UEFI HTTP boot, kernels).
 */
export const BOOT_STAGES = ['dhcp', 'proxy-dhcp', 'tftp', 'http-file', 'script'] as const;
export type BootStage = (typeof BOOT_STAGES)[number];

/** One thing a responder saw a machine do. `detail` holds short facts (boot file, address, architecture). */
export interface BootObservation {
  /** Lowercase, colon-separated. */
  mac: string;
  stage: BootStage;
  at: Date;
  detail: Record<string, string>;
}
