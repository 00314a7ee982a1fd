// The frameseek demo (served at / by `frameseek serve`): a library grid from /api/videos, a
// <frameseek-player> (built-in controls or media-chrome's), a frame inspector and markers
// stored through /api/videos/{id}/markers (or in this browser when the server has no such API).
import '../index.js';

const $ = (id) => document.getElementById(id);
const player = $('player');
const shell = $('shell');
const state = { videos: [], current: null, markers: [], store: null, mode: 'builtin' };

const fmt = (t, digits = 0) => {
  if (!Number.isFinite(t)) return '–';
  const m = Math.floor(t / 60);
  const s = (t - m * 60).toFixed(digits).padStart(digits ? digits + 3 : 2, '0');
  return `${m}:${s}`;
};
const bytes = (n) => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MB` : `${Math.max(1, Math.round(n / 1024))} KB`);
const codecName = (c = '') =>
  c.startsWith('avc1') || c.startsWith('avc3') ? 'H.264' : c.startsWith('hvc1') || c.startsWith('hev1') ? 'HEVC' : c.startsWith('vp09') ? 'VP9' : c.startsWith('av01') ? 'AV1' : c || 'unknown';
const el = (tag, props = {}, ...children) => {
  const e = Object.assign(document.createElement(tag), props);
  for (const c of children) if (c != null) e.append(c);
  return e;
};

// ---- library ------------------------------------------------------------------------------

async function loadLibrary() {
  try {
    const r = await fetch('api/videos?limit=500');
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    const page = await r.json();
    state.videos = page.videos ?? [];
    $('count').textContent = `${page.total ?? state.videos.length} video${(page.total ?? state.videos.length) === 1 ? '' : 's'}`;
  } catch (e) {
    state.videos = [];
    $('empty').hidden = false;
    $('empty').textContent = `The library could not be loaded (${e.message}). Is this page served by frameseek serve?`;
  }
  renderGrid();
  const fromHash = decodeURIComponent(location.hash.slice(1));
  const first =
    state.videos.find((v) => v.id === fromHash || v.path === fromHash) ??
    state.videos.find((v) => !v.error && /^(avc|vp09|av01)/.test(v.codec ?? '') && /demo/i.test(v.path)) ??
    state.videos.find((v) => !v.error && /^(avc|vp09|av01)/.test(v.codec ?? ''));
  if (first) select(first, false);
}

function renderGrid() {
  const q = $('filter').value.trim().toLowerCase();
  const grid = $('grid');
  grid.textContent = '';
  const shown = state.videos.filter((v) => !q || v.path.toLowerCase().includes(q));
  for (const v of shown) {
    const img = v.error ? el('span', { className: 'ph', textContent: 'no preview' }) : el('img', { src: v.urls.thumbnail, alt: '', loading: 'lazy', decoding: 'async' });
    if (img.tagName === 'IMG') img.addEventListener('error', () => img.replaceWith(el('span', { className: 'ph', textContent: 'no preview' })));
    const sub = v.error
      ? v.error
      : [codecName(v.codec), v.width && `${v.width}×${v.height}`, v.frameCount && v.duration ? `${Math.round(v.frameCount / v.duration)} fps` : null, bytes(v.size)].filter(Boolean).join(' · ');
    const card = el(
      'button',
      { type: 'button', className: `card${v.error ? ' bad' : ''}`, title: v.path },
      el('div', { className: 'thumb' }, img, Number.isFinite(v.duration) ? el('span', { className: 'dur', textContent: fmt(v.duration) }) : null),
      el('div', { className: 'card-body' }, el('div', { className: 'name', textContent: v.path }), el('div', { className: 'sub', textContent: sub })),
    );
    card.setAttribute('role', 'listitem');
    card.dataset.id = v.id;
    if (state.current?.id === v.id) card.setAttribute('aria-current', 'true');
    card.addEventListener('click', () => select(v, true));
    grid.append(card);
  }
  const empty = $('empty');
  if (!state.videos.length) {
    empty.textContent ||= 'The media folder has no videos yet.';
    empty.hidden = false;
  } else if (!shown.length) {
    empty.textContent = 'No video matches the filter.';
    empty.hidden = false;
  } else {
    empty.hidden = true;
  }
}

function select(v, scroll) {
  state.current = v;
  for (const c of document.querySelectorAll('.card')) {
    if (c.dataset.id === v.id) c.setAttribute('aria-current', 'true');
    else c.removeAttribute('aria-current');
  }
  history.replaceState(null, '', `#${encodeURIComponent(v.id)}`);
  $('title').textContent = v.path;
  document.title = `${v.path} · frameseek`;
  renderMeta(v);
  player.poster = v.error ? '' : v.urls.thumbnail;
  player.src = v.urls.media;
  loadMarkers(v);
  if (scroll) window.scrollTo({ top: 0, behavior: 'smooth' });
}

function renderMeta(v) {
  const chips = $('meta');
  chips.textContent = '';
  const info = player.info;
  const items = [
    ['Codec', info?.codec ?? v.codec],
    ['Size', info?.width ? `${player.videoWidth || info.width}×${player.videoHeight || info.height}` : v.width && `${v.width}×${v.height}`],
    ['Frames', info?.frameCount ?? v.frameCount],
    ['Rate', info?.fps ? `${info.fps.toFixed(info.fps % 1 ? 3 : 0)} fps` : null],
    ['Duration', Number.isFinite(v.duration) ? `${v.duration.toFixed(2)} s` : null],
    ['Audio', info ? (info.tracks.find((t) => t.kind === 'audio')?.codec ?? 'none') : null],
    ['File', bytes(v.size)],
    ['Container', info?.container ?? v.container],
  ];
  for (const [k, val] of items) {
    if (val == null || val === '') continue;
    chips.append(el('li', {}, `${k} `, el('b', { textContent: String(val) })));
  }
}

$('filter').addEventListener('input', renderGrid);

// ---- inspector ----------------------------------------------------------------------------

function renderInspector() {
  const k = player.currentFrame;
  $('frame-index').textContent = k >= 0 ? String(k) : '–';
  $('frame-count').textContent = player.frameCount ? `/ ${player.frameCount - 1}` : '';
  $('frame-time').textContent = k >= 0 ? `${player.frameTime(k).toFixed(3)} s` : '–';
  $('goto-frame').max = String(Math.max(0, player.frameCount - 1));
  $('add-marker-btn').textContent = `Add at ${fmt(player.currentTime, 1)}`;
}

function renderStats() {
  const s = player.stats;
  const rows = [
    ['Requests', s.requests ?? 0],
    ['Fetched', bytes(s.bytesFetched ?? 0)],
    ['Frames decoded', s.framesDecoded ?? 0],
    ['Clock', s.clock === 'audio' ? 'Web Audio' : 'performance.now()'],
    ['A/V drift', `${((s.drift ?? 0) * 1000).toFixed(1)} ms (max ${((s.maxDrift ?? 0) * 1000).toFixed(1)})`],
    ['Dropped', s.framesDropped ?? 0],
  ];
  const dl = $('stats');
  dl.textContent = '';
  for (const [k, v] of rows) dl.append(el('dt', { textContent: k }), el('dd', { textContent: String(v) }));
}

let rafId = 0;
function tick() {
  renderInspector();
  rafId = player.paused ? 0 : requestAnimationFrame(tick);
}
for (const type of ['loadeddata', 'seeked', 'timeupdate', 'pause', 'emptied', 'error']) player.addEventListener(type, renderInspector);
for (const type of ['loadeddata', 'emptied', 'error']) player.addEventListener(type, renderStats);
player.addEventListener('play', () => {
  if (!rafId) rafId = requestAnimationFrame(tick);
});
player.addEventListener('loadedmetadata', () => state.current && renderMeta(state.current));
player.addEventListener('resize', () => state.current && renderMeta(state.current));
setInterval(renderStats, 500);

for (const b of document.querySelectorAll('[data-step]')) {
  b.addEventListener('click', () => player.stepFrame(Number(b.dataset.step)));
}
$('goto').addEventListener('submit', (e) => {
  e.preventDefault();
  const k = Number($('goto-frame').value);
  if (Number.isInteger(k) && k >= 0) player.seekToFrame(Math.min(k, player.frameCount - 1));
});
$('save-png').addEventListener('click', async () => {
  try {
    const blob = await player.captureFrame('image/png');
    const a = el('a', { href: URL.createObjectURL(blob), download: `${(state.current?.path ?? 'frame').replace(/[\\/]/g, '_').replace(/\.\w+$/, '')}-frame-${player.currentFrame}.png` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  } catch (e) {
    console.warn('save frame:', e);
  }
});

// ---- markers ------------------------------------------------------------------------------

/** Markers on the server (GET/POST/DELETE /api/videos/{id}/markers), else in localStorage. */
function serverStore(id) {
  const base = `api/videos/${encodeURIComponent(id)}/markers`;
  return {
    kind: 'server',
    async list() {
      const r = await fetch(base);
      if (!r.ok) throw Object.assign(new Error(`HTTP ${r.status}`), { status: r.status });
      return (await r.json()).markers ?? [];
    },
    async add(m) {
      const r = await fetch(base, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(m) });
      if (!r.ok) throw new Error((await r.json().catch(() => ({}))).error ?? `HTTP ${r.status}`);
      return r.json();
    },
    async remove(m) {
      const r = await fetch(`${base}/${encodeURIComponent(m.id)}`, { method: 'DELETE' });
      if (!r.ok && r.status !== 404) throw new Error(`HTTP ${r.status}`);
    },
  };
}

function localStore(id) {
  const key = `frameseek-markers:${id}`;
  const read = () => {
    try {
      return JSON.parse(localStorage.getItem(key) ?? '[]');
    } catch {
      return [];
    }
  };
  const write = (list) => localStorage.setItem(key, JSON.stringify(list));
  return {
    kind: 'local',
    async list() {
      return read();
    },
    async add(m) {
      const list = read();
      const saved = { ...m, id: Date.now() };
      list.push(saved);
      write(list);
      return saved;
    },
    async remove(m) {
      write(read().filter((x) => x.id !== m.id));
    },
  };
}

async function loadMarkers(v) {
  state.markers = [];
  renderMarkers();
  let store = serverStore(v.id);
  let list;
  try {
    list = await store.list();
  } catch (e) {
    store = localStore(v.id);
    list = await store.list();
  }
  if (state.current !== v) return;
  state.store = store;
  state.markers = list;
  renderMarkers();
}

function renderMarkers() {
  const list = [...state.markers].sort((a, b) => a.time - b.time);
  player.markers = list.map((m) => ({ time: m.time, label: m.label, id: m.id }));
  $('marker-count').textContent = String(list.length);
  const ul = $('marker-list');
  ul.textContent = '';
  if (!list.length) ul.append(el('li', { className: 'empty-list', textContent: 'No markers yet: add one at the current time.' }));
  for (const m of list) {
    const go = el('button', { type: 'button', className: 'go', title: `Go to ${fmt(m.time, 2)}` }, el('span', { className: 't', textContent: fmt(m.time, 2) }), el('span', { className: 'l', textContent: m.label }));
    go.addEventListener('click', () => {
      player.currentTime = m.time;
    });
    const del = el('button', { type: 'button', className: 'del', textContent: '×' });
    del.setAttribute('aria-label', `Delete marker ${m.label}`);
    del.addEventListener('click', async () => {
      await state.store?.remove(m);
      state.markers = state.markers.filter((x) => x !== m);
      renderMarkers();
    });
    ul.append(el('li', {}, go, del));
  }
  $('marker-store').textContent = state.store
    ? state.store.kind === 'server'
      ? 'Saved on the server (/api/videos/{id}/markers).'
      : 'Saved in this browser (the server has no markers API).'
    : '';
}

$('add-marker').addEventListener('submit', async (e) => {
  e.preventDefault();
  if (!state.current || !state.store) return;
  const input = $('marker-label');
  const label = input.value.trim() || `Marker ${state.markers.length + 1}`;
  const time = Math.round(player.currentTime * 1000) / 1000;
  try {
    const saved = await state.store.add({ time, label });
    state.markers.push(saved);
    input.value = '';
    renderMarkers();
  } catch (err) {
    input.setCustomValidity(err.message);
    input.reportValidity();
    setTimeout(() => input.setCustomValidity(''), 3000);
  }
});

// ---- controls: built-in or media-chrome ------------------------------------------------------

let mediaChrome = null;
function loadMediaChrome() {
  mediaChrome ??= new Promise((resolve, reject) => {
    if (customElements.get('media-controller')) return resolve();
    const s = el('script', { src: 'demo/media-chrome.js' });
    s.onload = () => resolve();
    s.onerror = () => reject(new Error('demo/media-chrome.js is missing (npm install in web/, then scripts/build)'));
    document.head.append(s);
  });
  return mediaChrome;
}

const MEDIA_CHROME = `
  <media-loading-indicator slot="centered-chrome" noautohide></media-loading-indicator>
  <media-control-bar>
    <media-play-button></media-play-button>
    <media-seek-backward-button seekoffset="5"></media-seek-backward-button>
    <media-seek-forward-button seekoffset="5"></media-seek-forward-button>
    <media-mute-button></media-mute-button>
    <media-volume-range></media-volume-range>
    <media-time-range></media-time-range>
    <media-time-display showduration></media-time-display>
    <media-playback-rate-button rates="0.5 1 1.5 2"></media-playback-rate-button>
    <media-fullscreen-button></media-fullscreen-button>
  </media-control-bar>`;

async function setMode(mode) {
  if (mode === state.mode) return;
  const buttons = document.querySelectorAll('.mode button');
  if (mode === 'media-chrome') {
    try {
      await loadMediaChrome();
    } catch (e) {
      alert(e.message);
      return;
    }
    const mc = el('media-controller', { id: 'mc' });
    mc.innerHTML = MEDIA_CHROME;
    player.controls = false;
    player.slot = 'media';
    mc.prepend(player);
    shell.append(mc);
  } else {
    player.removeAttribute('slot');
    player.controls = true;
    shell.append(player);
    document.getElementById('mc')?.remove();
  }
  state.mode = mode;
  for (const b of buttons) b.setAttribute('aria-checked', String(b.dataset.mode === mode));
}
for (const b of document.querySelectorAll('.mode button')) b.addEventListener('click', () => setMode(b.dataset.mode));

window.demo = { state, setMode, player };
renderInspector();
renderStats();
loadLibrary();
