import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { captureOutput, stopProcess, waitUntil, type NetNamespace } from './netns.ts';

/** SeaBIOS plus an iPXE option ROM, or OVMF with its own network stack (PXE over IPv4). */
export type Firmware = 'bios' | 'uefi';

/**
 * `tcg` is plain emulation and works everywhere. `kvm` needs a /dev/kvm that
 * can run real-mode firmware: the PVM flavour of KVM some sandboxes offer
 * accepts the VM, then hangs iPXE at "starting execution" (BIOS) and stops
 * OVMF with "KVM internal error ... emulation failure" (UEFI), so it is
 * opt-in (BRUME_E2E_ACCEL=kvm) rather than the default.
 */
export type Accelerator = 'tcg' | 'kvm' | 'kvm-then-tcg';

export type Nic = 'virtio' | 'e1000';

export const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE.fd';
export const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS.fd';
/** iPXE ROMs built for QEMU's NICs (Debian package ipxe-qemu). */
export const IPXE_QEMU_ROMS = '/usr/lib/ipxe/qemu';

export interface BootVmOptions {
  ns: NetNamespace;
  /** A tap device in `ns`; only one VM can hold it at a time. */
  tap: string;
  /** aa:bb:cc:dd:ee:ff */
  mac: string;
  firmware: Firmware;
  /** Default: BRUME_E2E_ACCEL, else tcg. */
  accel?: Accelerator;
  nic?: Nic;
  /** Replaces the NIC's option ROM; '' means none. */
  romfile?: string;
  memoryMb?: number;
  /** Where the VM's files go (serial log, QMP socket, NVRAM copy, screenshots); a new temp dir by default. */
  dir?: string;
  /**
   * Start with the CPU stopped; `resume()` runs it. QEMU opens the tap at
   * once, so the tap has a carrier (and shows in os.networkInterfaces())
   * before the server that must bind it starts.
   */
  paused?: boolean;
  /** Hard cap on the VM's life, enforced by coreutils timeout, so not even a killed test run leaves it behind. */
  maxLifetimeSeconds?: number;
  extraArgs?: string[];
}

export interface Vm {
  readonly mac: string;
  readonly firmware: Firmware;
  readonly dir: string;
  readonly process: ChildProcess;
  /** Date.now() when the VM's CPU started (QEMU start, or resume()), to time boot stages against. */
  readonly startedAt: number;
  /** The full QEMU command line (for a failing test's message). */
  readonly command: string[];
  /** Resolves when QEMU has exited. */
  readonly exited: Promise<void>;
  /** QEMU's own stdout and stderr. */
  output(): string;
  /** The serial console, escape sequences removed. OVMF and iPXE under UEFI print here; under BIOS iPXE prints to VGA only. */
  serial(): string;
  /** Runs a VM started with `paused`; `startedAt` becomes now. */
  resume(): Promise<void>;
  /** Sends one QMP command and returns its `return` value. */
  qmp(execute: string, args?: Record<string, unknown>): Promise<unknown>;
  /** 'kvm' or 'tcg': what QEMU actually runs on. */
  accelerator(): Promise<'kvm' | 'tcg'>;
  /** Saves the VGA console as a PNG (in `dir` unless a path is given) and returns its path. */
  screenshot(path?: string): Promise<string>;
  /** Ends QEMU; removes `dir` (if bootVm made it) unless it holds screenshots or `keepFiles` is set. */
  stop(options?: { keepFiles?: boolean }): Promise<void>;
}

function accelArgs(accel: Accelerator): string[] {
  if (accel === 'kvm') return ['-accel', 'kvm'];
  // QEMU tries the accelerators in order; this one only helps where KVM fails to open, not where it runs badly.
  if (accel === 'kvm-then-tcg') return ['-accel', 'kvm', '-accel', 'tcg'];
  return ['-accel', 'tcg'];
}

function defaultAccel(): Accelerator {
  const wanted = process.env.BRUME_E2E_ACCEL;
  if (wanted === 'kvm' || wanted === 'kvm-then-tcg' || wanted === 'tcg') return wanted;
  return 'tcg';
}

function nicDevice(options: BootVmOptions): string {
  const nic = options.nic ?? 'virtio';
  const base = nic === 'virtio' ? 'virtio-net-pci' : 'e1000';
  let rom = options.romfile;
  if (rom === undefined) {
    // OVMF drives virtio-net and e1000 with its own drivers: no ROM, so the PXE client is the firmware's.
    if (options.firmware === 'uefi') rom = '';
    else rom = join(IPXE_QEMU_ROMS, nic === 'virtio' ? 'pxe-virtio.rom' : 'pxe-e1000.rom');
  }
  const parts = [base, 'netdev=n0', `mac=${options.mac}`, `romfile=${rom}`, 'bootindex=1'];
  // ipxe-qemu's virtio ROM declares the modern device id 1af4:1041; SeaBIOS runs a ROM only on
  // the device it names, and QEMU's default (transitional) virtio-net is 1af4:1000.
  if (nic === 'virtio' && options.firmware === 'bios' && rom.endsWith('virtio.rom')) parts.push('disable-legacy=on');
  return parts.join(',');
}

/**
 * Starts a VM inside `ns` whose only disk is the network: it PXE-boots from
 * whatever answers DHCP on `tap`. The VM has no display; `screenshot()`
 * shows what the firmware printed.
 *
 * @example
 * const vm = await bootVm({ ns, tap: 'tap0', mac: '52:54:00:12:34:56', firmware: 'uefi' });
 * try { ... console.log(await vm.screenshot()); } finally { await vm.stop(); }
 */
export async function bootVm(options: BootVmOptions): Promise<Vm> {
  const dir = options.dir ?? await mkdtemp(join(tmpdir(), 'brume-vm-'));
  const qmpSocket = join(dir, 'qmp.sock');
  const serialLog = join(dir, 'serial.log');
  const args = [
    ...accelArgs(options.accel ?? defaultAccel()),
    '-nodefaults', '-vga', 'std', '-display', 'none',
    '-m', String(options.memoryMb ?? 256), '-smp', '1',
    '-serial', `file:${serialLog}`,
    '-qmp', `unix:${qmpSocket},server=on,wait=off`,
    '-netdev', `tap,id=n0,ifname=${options.tap},script=no,downscript=no`,
    '-device', nicDevice(options),
    // A firmware that gives up reboots; the test wants it to stop instead.
    '-no-reboot',
  ];
  if (options.paused) args.push('-S');
  if (options.firmware === 'uefi') {
    // OVMF writes its boot options to the variable store: each VM gets its own copy.
    const vars = join(dir, 'OVMF_VARS.fd');
    await copyFile(OVMF_VARS, vars);
    args.push('-drive', `if=pflash,format=raw,readonly=on,file=${OVMF_CODE}`, '-drive', `if=pflash,format=raw,file=${vars}`);
  }
  args.push(...(options.extraArgs ?? []));
  const lifetime = String(options.maxLifetimeSeconds ?? 600);
  const command = ['timeout', '--kill-after=5', lifetime, 'qemu-system-x86_64', ...args];
  let startedAt = Date.now();
  const child = options.ns.spawn(command[0]!, command.slice(1));
  const output = captureOutput(child);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  let shots = 0;
  let shotsKept = 0;

  const qmp = async (execute: string, commandArgs?: Record<string, unknown>) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`QMP ${execute}: QEMU has exited (${child.exitCode ?? child.signalCode}); it printed: ${output.text().trim() || 'nothing'}`);
    }
    return qmpCommand(qmpSocket, execute, commandArgs);
  };
  const vm: Vm = {
    mac: options.mac, firmware: options.firmware, dir, process: child, command, exited,
    get startedAt() { return startedAt; },
    async resume() {
      await qmp('cont');
      startedAt = Date.now();
    },
    output: () => output.text(),
    serial: () => (existsSync(serialLog) ? cleanConsole(readFileSync(serialLog, 'latin1')) : ''),
    qmp,
    async accelerator() {
      const kvm = await qmp('query-kvm') as { enabled: boolean };
      return kvm.enabled ? 'kvm' : 'tcg';
    },
    async screenshot(path) {
      shots += 1;
      const ppm = join(dir, `screen-${shots}.ppm`);
      await qmp('screendump', { filename: ppm });
      const png = path ?? join(dir, `screen-${shots}.png`);
      if (!path) shotsKept += 1;
      await writeFile(png, ppmToPng(await readFile(ppm)));
      await rm(ppm, { force: true });
      return png;
    },
    async stop(stopOptions = {}) {
      await stopProcess(child);
      if (stopOptions.keepFiles || shotsKept > 0) {
        await rm(qmpSocket, { force: true });
        await rm(join(dir, 'OVMF_VARS.fd'), { force: true });
      } else if (!options.dir) {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
  // Fail here, with QEMU's own words, when it refuses to start (tap busy, bad option).
  try {
    await waitUntil('QEMU to open its QMP socket', () => existsSync(qmpSocket) || child.exitCode !== null || child.signalCode !== null, 15_000, 50);
  } catch (error) {
    await vm.stop();
    throw error;
  }
  if (!existsSync(qmpSocket)) {
    await vm.stop({ keepFiles: true });
    throw new Error(`QEMU exited at once (${command.join(' ')}):\n${output.text()}`);
  }
  return vm;
}

/** Strips ANSI escape sequences, backspaced characters and carriage returns from a console log. */
export function cleanConsole(text: string): string {
  let out = text.replace(/\x1b\[[0-9;?=]*[A-Za-z]/g, '').replace(/\r/g, '');
  // "Press Ctrl-B ..." is erased with backspaces; apply them.
  while (/[^\x08\n]\x08/.test(out)) out = out.replace(/[^\x08\n]\x08/g, '');
  return out.replace(/\x08/g, '');
}

/**
 * One QMP exchange on a fresh connection: greeting, qmp_capabilities, the
 * command. A connection per command keeps no state between calls and lets
 * a test ask while another helper holds nothing open.
 */
export function qmpCommand(socketPath: string, execute: string, args?: Record<string, unknown>, timeoutMs = 10_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    let buffer = '';
    let step = 0;
    const timer = setTimeout(() => finish(new Error(`QMP ${execute}: no answer within ${timeoutMs} ms`)), timeoutMs);
    const finish = (error: Error | null, value?: unknown) => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error); else resolve(value);
    };
    socket.on('error', (error) => finish(new Error(`QMP ${execute}: ${error.message}`)));
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (!line) continue;
        const message = JSON.parse(line) as { QMP?: unknown; return?: unknown; error?: { class: string; desc: string }; event?: string };
        if (message.event) continue;
        if (message.error) return finish(new Error(`QMP ${execute}: ${message.error.class}: ${message.error.desc}`));
        if (step === 0 && message.QMP) {
          step = 1;
          socket.write(`${JSON.stringify({ execute: 'qmp_capabilities' })}\n`);
        } else if (step === 1) {
          step = 2;
          socket.write(`${JSON.stringify(args ? { execute, arguments: args } : { execute })}\n`);
        } else if (step === 2) {
          return finish(null, message.return);
        }
      }
    });
  });
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(data: Buffer): number {
  let c = 0xffffffff;
  for (const byte of data) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** Converts a binary PPM (P6, 8-bit, what QMP screendump writes) to a PNG, with nothing but node:zlib. */
export function ppmToPng(ppm: Buffer): Buffer {
  const fields: string[] = [];
  let at = 0;
  while (fields.length < 4) {
    while (at < ppm.length && /\s/.test(String.fromCharCode(ppm[at]!))) at++;
    if (ppm[at] === 0x23) { // a comment runs to the end of its line
      while (at < ppm.length && ppm[at] !== 0x0a) at++;
      continue;
    }
    const start = at;
    while (at < ppm.length && !/\s/.test(String.fromCharCode(ppm[at]!))) at++;
    if (start === at) throw new Error('not a PPM: header ends early');
    fields.push(ppm.toString('latin1', start, at));
  }
  at++; // the single whitespace byte before the pixels
  const [magic, w, h, max] = fields as [string, string, string, string];
  const width = Number(w);
  const height = Number(h);
  if (magic !== 'P6' || max !== '255') throw new Error(`only 8-bit binary PPM (P6, 255) is supported, not ${magic} ${max}`);
  const row = width * 3;
  if (ppm.length < at + row * height) throw new Error('PPM pixel data is truncated');
  // Each PNG row starts with its filter type; 0 is "none".
  const raw = Buffer.alloc((row + 1) * height);
  for (let y = 0; y < height; y++) ppm.copy(raw, y * (row + 1) + 1, at + y * row, at + (y + 1) * row);
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // truecolour RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header), pngChunk('IDAT', deflateSync(raw)), pngChunk('IEND', Buffer.alloc(0)),
  ]);
}
