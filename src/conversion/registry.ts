import type { Hl7Message } from '../hl7v2/index.js';
import type { MessageAdapter } from './types.js';

/**
 * Maps a message (type, event) to the adapter that converts it. The engine asks this registry
 * and never imports a specific adapter; the built-in ones are listed in `adapters/index.ts`.
 */
export class AdapterRegistry {
  private readonly byType = new Map<string, MessageAdapter[]>();

  constructor(adapters: readonly MessageAdapter[] = []) {
    for (const a of adapters) this.register(a);
  }

  register(adapter: MessageAdapter): this {
    for (const type of adapter.handles.types) {
      const list = this.byType.get(type) ?? [];
      if (list.some((a) => a.id === adapter.id)) throw new Error(`adapter ${adapter.id} is registered twice for ${type}`);
      list.push(adapter);
      this.byType.set(type, list);
    }
    return this;
  }

  /** The adapter for this message, or undefined (the message is then filtered, not rejected). */
  find(msg: Pick<Hl7Message, 'messageType' | 'triggerEvent'>): MessageAdapter | undefined {
    const list = this.byType.get(msg.messageType);
    if (!list) return undefined;
    return list.find((a) => !a.handles.events || a.handles.events.includes(msg.triggerEvent));
  }

  /** True when some adapter converts this message type (for some event). */
  handlesType(messageType: string): boolean {
    return this.byType.has(messageType);
  }

  get adapters(): MessageAdapter[] {
    return [...new Set([...this.byType.values()].flat())];
  }
}
