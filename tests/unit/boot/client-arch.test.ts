import { describe, expect, it } from 'vitest';
import { bootFileFor, classifyClient, type BootFiles, type ClientOptions } from '../../../core/boot/client-arch.ts';

const files: BootFiles = { bios: 'undionly.kpxe', efi32: 'ipxe32.efi', efi64: 'ipxe.efi', arm64: 'arm64/snp.efi' };
const httpBaseUrl = 'http://192.0.2.1:8080/';
const mac = '52:54:00:12:34:56';
const bytes = (text: string) => [...text].map((c) => c.charCodeAt(0));

/** Given the options a client sent, when brume decides its boot answer. */
const whenAsked = (options: ClientOptions, bootFiles: BootFiles = files) =>
  bootFileFor(classifyClient(options), { files: bootFiles, httpBaseUrl, mac });

describe('classifying a DHCP client by options 93, 60 and 77', () => {
  it.each([
    [0, 'bios'], [6, 'efi32'], [7, 'efi64'], [9, 'efi64'], [10, 'arm32'], [11, 'arm64'],
    [15, 'efi32'], [16, 'efi64'], [18, 'arm32'], [19, 'arm64'], [2, 'unknown'], [4242, 'unknown'],
  ])('given option 93 = %d, then the firmware is %s', (arch, firmware) => {
    expect(classifyClient({ arch: [arch], vendorClass: 'PXEClient' })).toEqual({ arch, firmware, vendorClass: 'pxe', ipxe: false });
  });

  it('given several architectures, then the first one counts (RFC 4578 lists them by preference)', () => {
    expect(classifyClient({ arch: [7, 0], vendorClass: 'PXEClient' }).firmware).toBe('efi64');
  });

  it('given no option 93, then the Arch field of option 60 is used', () => {
    expect(classifyClient({ vendorClass: 'PXEClient:Arch:00007:UNDI:003016' })).toMatchObject({ arch: 7, firmware: 'efi64' });
    expect(classifyClient({ vendorClass: 'HTTPClient:Arch:00016:UNDI:003001' })).toMatchObject({ arch: 16, vendorClass: 'http' });
  });

  it('given a PXE client with no architecture at all, then it is an old BIOS ROM', () => {
    expect(classifyClient({ vendorClass: 'PXEClient' })).toMatchObject({ arch: null, firmware: 'bios' });
  });

  it('given an ordinary DHCP client, then it is "other" with unknown firmware', () => {
    expect(classifyClient({ vendorClass: 'udhcp 1.35.0' })).toEqual({ arch: null, firmware: 'unknown', vendorClass: 'other', ipxe: false });
    expect(classifyClient({})).toEqual({ arch: null, firmware: 'unknown', vendorClass: 'other', ipxe: false });
  });

  it('given a vendor class that only contains PXEClient later on, then it is not a PXE client', () => {
    expect(classifyClient({ vendorClass: 'NotPXEClient' }).vendorClass).toBe('other');
  });

  it('given user class "iPXE" bare or RFC 3004-encoded, then it is iPXE; other user classes are not', () => {
    expect(classifyClient({ userClass: bytes('iPXE') }).ipxe).toBe(true);
    expect(classifyClient({ userClass: [3, ...bytes('foo'), 4, ...bytes('iPXE')] }).ipxe).toBe(true);
    expect(classifyClient({ userClass: bytes('gPXE') }).ipxe).toBe(false);
    expect(classifyClient({ userClass: [9, ...bytes('iPXE')] }).ipxe).toBe(false);
    expect(classifyClient({ userClass: [0] }).ipxe).toBe(false);
    expect(classifyClient({ userClass: [] }).ipxe).toBe(false);
  });
});

describe('choosing the boot file', () => {
  it('given a BIOS PXE client, when asked, then it gets undionly.kpxe by TFTP', () => {
    expect(whenAsked({ arch: [0], vendorClass: 'PXEClient:Arch:00000:UNDI:002001' })).toEqual({ kind: 'tftp', file: 'undionly.kpxe' });
  });

  it.each([[7], [9]])('given an EFI x64 PXE client (arch %d), then it gets the EFI x64 file', (arch) => {
    expect(whenAsked({ arch: [arch], vendorClass: 'PXEClient' })).toEqual({ kind: 'tftp', file: 'ipxe.efi' });
    expect(whenAsked({ arch: [arch], vendorClass: 'PXEClient' }, { ...files, efi64: 'snponly.efi' })).toEqual({ kind: 'tftp', file: 'snponly.efi' });
  });

  it('given an EFI IA32 client, then it gets the configured 32-bit file', () => {
    expect(whenAsked({ arch: [6], vendorClass: 'PXEClient' })).toEqual({ kind: 'tftp', file: 'ipxe32.efi' });
  });

  it('given an ARM64 client, then it gets the configured ARM64 file, and nothing when none is configured', () => {
    expect(whenAsked({ arch: [11], vendorClass: 'PXEClient' })).toEqual({ kind: 'tftp', file: 'arm64/snp.efi' });
    expect(whenAsked({ arch: [11], vendorClass: 'PXEClient' }, { ...files, arm64: null })).toBeNull();
  });

  it('given an architecture brume has no file for (ARM32, unknown), then there is no boot answer', () => {
    expect(whenAsked({ arch: [10], vendorClass: 'PXEClient' })).toBeNull();
    expect(whenAsked({ arch: [2], vendorClass: 'PXEClient' })).toBeNull();
  });

  it('given a UEFI HTTP-boot client, then it gets the URL of the EFI file under /boot/files', () => {
    expect(whenAsked({ arch: [16], vendorClass: 'HTTPClient:Arch:00016:UNDI:003001' }))
      .toEqual({ kind: 'url', url: 'http://192.0.2.1:8080/boot/files/ipxe.efi' });
    expect(whenAsked({ arch: [19], vendorClass: 'HTTPClient' }))
      .toEqual({ kind: 'url', url: 'http://192.0.2.1:8080/boot/files/arm64/snp.efi' });
  });

  it('given iPXE (any architecture), then it gets its boot script URL with its MAC and iPXE\'s own ${...} settings', () => {
    const expected = { kind: 'url', url: 'http://192.0.2.1:8080/boot/ipxe?mac=52:54:00:12:34:56&arch=${buildarch}&platform=${platform}' };
    expect(whenAsked({ arch: [0], vendorClass: 'PXEClient:Arch:00000:UNDI:002001', userClass: bytes('iPXE') })).toEqual(expected);
    expect(whenAsked({ arch: [7], vendorClass: 'PXEClient', userClass: bytes('iPXE') })).toEqual(expected);
    expect(whenAsked({ userClass: bytes('iPXE') })).toEqual(expected);
  });

  it('given an ordinary DHCP client, then there is no boot answer', () => {
    expect(whenAsked({ vendorClass: 'MSFT 5.0' })).toBeNull();
    expect(whenAsked({ arch: [0] })).toBeNull();
  });

  it('given an upper-case MAC and a base URL without trailing slash, then the URL is normalised', () => {
    const target = bootFileFor(classifyClient({ userClass: bytes('iPXE') }), { files, httpBaseUrl: 'http://boot.example', mac: '52:54:00:AB:CD:EF' });
    expect(target).toEqual({ kind: 'url', url: 'http://boot.example/boot/ipxe?mac=52:54:00:ab:cd:ef&arch=${buildarch}&platform=${platform}' });
  });
});
