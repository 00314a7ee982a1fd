// Registers <frameseek-player> (imported by the package entry, web/src/index.js).
import { FrameseekPlayer } from './element.js';

if (globalThis.customElements && !customElements.get('frameseek-player')) {
  customElements.define('frameseek-player', FrameseekPlayer);
}

export { FrameseekPlayer };
