/**
 * Boot menu settings: how long the menu waits, whether it shows at all, how
 * "boot from the local disk" leaves iPXE, and extra kernel arguments for the
 * boot environment. Global defaults, overridable per host; the caller merges
 * them and hands one `BootMenuSettings` to `bootScriptFor`.
 */
import { validateKernelArgs } from './ipxe-text.ts';
import { ok, type Result } from '../shared/result.ts';
import { validateBoolean, validateChoice, validateInteger } from '../shared/validate.ts';

export const EXIT_TYPES = ['sanboot', 'exit', 'auto'] as const;
export type ExitType = (typeof EXIT_TYPES)[number];

export interface BootMenuSettings {
  /**
   * Seconds before the default choice (the local disk) is taken. 0 means the
   * visible menu waits for a choice, and the hidden menu boots the local disk
   * at once with no chance to open the menu.
   */
  timeoutSeconds: number;
  /** Boot the local disk unless ESC is pressed within the timeout. */
  hidden: boolean;
  /** `auto`: `sanboot` on BIOS, `exit` on EFI and unknown platforms. */
  exitType: ExitType;
  /** Appended to the boot environment's kernel line (see `validateKernelArgs`). */
  kernelArgs: string;
}

/** 5 s visible menu, automatic local-disk exit, no extra kernel arguments. */
export const DEFAULT_BOOT_MENU: BootMenuSettings = Object.freeze({
  timeoutSeconds: 5,
  hidden: false,
  exitType: 'auto',
  kernelArgs: '',
});

/** Longest menu timeout accepted: one hour. */
export const MAX_MENU_TIMEOUT_SECONDS = 3600;

/**
 * Checks a complete settings object, as the settings commands should before
 * recording it, so a bad value is refused when it is typed rather than when
 * a machine boots. Kernel arguments come back normalised.
 *
 * @example
 * validateBootMenuSettings({ ...DEFAULT_BOOT_MENU, timeoutSeconds: 10 }) // { ok: true, value: { timeoutSeconds: 10, ... } }
 */
export function validateBootMenuSettings(input: unknown): Result<BootMenuSettings> {
  const raw = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  const timeoutSeconds = validateInteger(raw.timeoutSeconds, 'timeoutSeconds', 0, MAX_MENU_TIMEOUT_SECONDS);
  if (!timeoutSeconds.ok) return timeoutSeconds;
  const hidden = validateBoolean(raw.hidden, 'hidden');
  if (!hidden.ok) return hidden;
  const exitType = validateChoice(raw.exitType, 'exitType', EXIT_TYPES);
  if (!exitType.ok) return exitType;
  const kernelArgs = validateKernelArgs(raw.kernelArgs);
  if (!kernelArgs.ok) return kernelArgs;
  return ok({ timeoutSeconds: timeoutSeconds.value, hidden: hidden.value, exitType: exitType.value, kernelArgs: kernelArgs.value });
}
