import { formatCount } from './format-bytes.ts';

/** Slots in use out of the node's maximum, as a bar of fixed width and the figures (used / max, free). */
export function SlotMeter({ used, max }: { used: number; max: number }) {
  const share = max > 0 ? Math.min(1, used / max) : 1;
  const free = Math.max(0, max - used);
  return (
    <span class="meter">
      <span class={`meter-bar${free === 0 ? ' full' : ''}`} role="meter" aria-valuemin={0} aria-valuemax={max} aria-valuenow={used}
        aria-label={`${used} of ${max} slots in use`}>
        <span style={{ width: `${Math.round(share * 100)}%` }} />
      </span>
      <span class="num">{formatCount(used)} / {formatCount(max)}</span>
      <span class={free === 0 ? 'error num' : 'muted num'}>{free === 0 ? 'full' : `${formatCount(free)} free`}</span>
    </span>
  );
}
