// The shadow root's stylesheet. Everything visible is themeable through CSS custom
// properties on the element (or any ancestor) and through ::part() (see docs/player.md).
export const css = `
:host {
  --_accent: var(--frameseek-accent, #4f8cff);
  --_fg: var(--frameseek-control-color, #fff);
  --_track: var(--frameseek-track-color, rgba(255, 255, 255, 0.22));
  --_buffered: var(--frameseek-buffered-color, rgba(255, 255, 255, 0.42));
  --_marker: var(--frameseek-marker-color, #ffc83d);
  --_bar-bg: var(--frameseek-controls-background, linear-gradient(to top, rgba(0, 0, 0, 0.82), rgba(0, 0, 0, 0.45) 60%, transparent));
  --_radius: var(--frameseek-radius, 0px);
  display: block;
  position: relative;
  overflow: hidden;
  aspect-ratio: 16 / 9;
  background: var(--frameseek-background, #000);
  color: var(--_fg);
  font: var(--frameseek-font, 500 13px/1.2 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif);
  border-radius: var(--_radius);
  contain: layout paint;
  -webkit-tap-highlight-color: transparent;
  user-select: none;
  outline: none;
}
:host([hidden]) { display: none; }
:host(:focus-visible) { box-shadow: inset 0 0 0 2px var(--_accent); }
:host(:fullscreen) { aspect-ratio: auto; width: 100%; height: 100%; border-radius: 0; }
.stage { position: absolute; inset: 0; }
canvas.video {
  position: absolute; inset: 0; width: 100%; height: 100%;
  object-fit: var(--frameseek-object-fit, contain);
  display: block;
}
.poster {
  position: absolute; inset: 0; width: 100%; height: 100%;
  object-fit: var(--frameseek-object-fit, contain);
}
[hidden] { display: none !important; }
.spinner {
  position: absolute; left: 50%; top: 50%; width: 44px; height: 44px; margin: -22px;
  border-radius: 50%; border: 3px solid rgba(255, 255, 255, 0.25); border-top-color: var(--_fg);
  animation: spin 0.8s linear infinite; pointer-events: none;
}
@keyframes spin { to { transform: rotate(1turn); } }
.error {
  position: absolute; inset: auto 12px 50% 12px; transform: translateY(50%);
  margin: auto; max-width: 34em; padding: 12px 16px; border-radius: 10px;
  background: rgba(20, 20, 24, 0.88); color: #ffb4b4; text-align: center; line-height: 1.45;
}
.big-play {
  position: absolute; left: 50%; top: 50%; width: 68px; height: 68px; margin: -34px;
  border-radius: 50%; border: 0; padding: 0; cursor: pointer;
  background: rgba(10, 10, 14, 0.55); color: #fff; backdrop-filter: blur(6px);
  display: grid; place-items: center; transition: transform 0.15s, background 0.15s;
}
.big-play:hover { transform: scale(1.06); background: var(--_accent); }
.big-play svg { width: 34px; height: 34px; margin-left: 4px; }
.controls {
  position: absolute; left: 0; right: 0; bottom: 0;
  padding: 28px 12px 8px; background: var(--_bar-bg);
  transition: opacity 0.25s; opacity: 1;
}
:host([data-idle]) .controls { opacity: 0; pointer-events: none; }
:host([data-idle]) { cursor: none; }
.timeline { position: relative; height: 18px; margin: 0 4px 4px; cursor: pointer; touch-action: none; }
.track {
  position: absolute; left: 0; right: 0; top: 7px; height: 4px; border-radius: 2px;
  background: var(--_track); transition: height 0.12s, top 0.12s; outline: none;
}
.timeline:hover .track, .track:focus-visible { top: 6px; height: 6px; border-radius: 3px; }
.track:focus-visible { box-shadow: 0 0 0 2px var(--_accent); }
.buffered, .progress { position: absolute; inset: 0; border-radius: inherit; pointer-events: none; }
.buffered span { position: absolute; top: 0; bottom: 0; background: var(--_buffered); border-radius: inherit; }
.progress { right: auto; width: 0; background: var(--_accent); }
.playhead {
  position: absolute; top: 50%; left: 0; width: 13px; height: 13px; margin: -6.5px;
  border-radius: 50%; background: var(--_accent); box-shadow: 0 0 0 2px rgba(0, 0, 0, 0.25);
  transform: scale(0); transition: transform 0.12s; pointer-events: none;
}
.timeline:hover .playhead, .track:focus-visible .playhead, :host([data-scrubbing]) .playhead { transform: scale(1); }
.hover-line { position: absolute; top: 0; bottom: 0; width: 2px; margin-left: -1px; background: rgba(255, 255, 255, 0.7); pointer-events: none; }
.markers { position: absolute; left: 0; right: 0; top: 0; height: 0; }
.marker {
  position: absolute; top: 2px; width: 6px; height: 14px; margin-left: -3px; padding: 0;
  border: 0; border-radius: 3px; background: var(--_marker); cursor: pointer;
  box-shadow: 0 0 0 1.5px rgba(0, 0, 0, 0.55); transition: transform 0.12s;
}
.marker:hover, .marker:focus-visible { transform: scaleY(1.25) scaleX(1.4); outline: none; box-shadow: 0 0 0 2px var(--_fg); }
.preview {
  position: absolute; bottom: 24px; transform: translateX(-50%); pointer-events: none;
  display: flex; flex-direction: column; align-items: center; gap: 4px;
}
.preview-image {
  width: 160px; height: 90px; border-radius: 6px; overflow: hidden;
  background: #111 no-repeat; box-shadow: 0 4px 18px rgba(0, 0, 0, 0.55), 0 0 0 1.5px rgba(255, 255, 255, 0.85);
}
.preview-image canvas { width: 100%; height: 100%; object-fit: contain; display: block; }
.preview-text {
  padding: 2px 7px; border-radius: 4px; background: rgba(0, 0, 0, 0.75);
  font-variant-numeric: tabular-nums; white-space: nowrap; max-width: 220px; overflow: hidden; text-overflow: ellipsis;
}
.bar { display: flex; align-items: center; gap: 2px; min-height: 36px; }
.bar button {
  width: 36px; height: 36px; padding: 6px; border: 0; border-radius: 8px; cursor: pointer;
  background: transparent; color: var(--_fg); display: grid; place-items: center; flex: none;
}
.bar button:hover { background: rgba(255, 255, 255, 0.14); }
.bar button:focus-visible, .volume:focus-visible { outline: 2px solid var(--_accent); outline-offset: 1px; }
.bar svg { width: 22px; height: 22px; fill: currentColor; }
.volume-group { display: flex; align-items: center; }
.volume { width: 0; opacity: 0; transition: width 0.18s, opacity 0.18s; accent-color: var(--_accent); margin: 0; cursor: pointer; }
.volume-group:hover .volume, .volume:focus-visible, .volume-group:focus-within .volume { width: 72px; opacity: 1; margin: 0 6px 0 2px; }
.time, .frame { font-variant-numeric: tabular-nums; padding: 0 8px; white-space: nowrap; text-shadow: 0 1px 2px rgba(0, 0, 0, 0.6); }
.frame { opacity: 0.75; font-size: 0.92em; }
.spacer { flex: 1; }
.live { font: inherit; font-size: 0.8em; font-weight: 600; letter-spacing: 0.05em; color: inherit; background: none; border: 0; padding: 0 8px; cursor: pointer; display: inline-flex; align-items: center; gap: 5px; }
.live[hidden] { display: none; }
.live::before { content: ''; width: 8px; height: 8px; border-radius: 50%; background: #e5322d; }
.live.behind::before { background: #888; }
@media (max-width: 420px) { .frame, .step { display: none !important; } }
`;
