import { InvalidOptionError, describeValue } from '../errors/index.js';
import { EVENTS, type EventListener, type EventPayloads, type EventType, type InstrumentationEvent } from './events.js';

const KNOWN = new Set<string>(Object.values(EVENTS));

/**
 * Dispatches instrumentation events to listeners. A listener that throws is
 * reported to `onListenerError` and never disturbs the query or the other
 * listeners.
 */
export class InstrumentationEmitter {
  private readonly listeners = new Map<EventType, Set<EventListener<EventType>>>();
  private nextId = 0;
  private readonly onListenerError: (error: unknown, type: EventType) => void;

  constructor(onListenerError: (error: unknown, type: EventType) => void = (error, type) => console.error(`rxjs-structured-streaming: a ${type} listener threw`, error)) {
    this.onListenerError = onListenerError;
  }

  /**
   * Adds a listener; returns a function that removes it.
   *
   * @throws {InvalidOptionError} `on: event type must be one of query.start, …; got "x".` for an unknown name.
   */
  on<E extends EventType>(type: E, listener: EventListener<E>): () => void {
    if (!KNOWN.has(type)) {
      const names = [...KNOWN].join(', ');
      throw new InvalidOptionError(`on: event type must be one of ${names}; got ${describeValue(type)}. Use the EVENTS map.`, 'type', type, names);
    }
    let set = this.listeners.get(type);
    if (set === undefined) this.listeners.set(type, (set = new Set()));
    const entry = listener as unknown as EventListener<EventType>;
    set.add(entry);
    return () => {
      set?.delete(entry);
    };
  }

  /** Sends an event to the listeners of its type. */
  emit<E extends EventType>(type: E, timestamp: number, payload: EventPayloads[E]): void {
    const set = this.listeners.get(type);
    const id = this.nextId++;
    if (set === undefined || set.size === 0) return;
    const event: InstrumentationEvent<E> = { id, type, timestamp, payload };
    for (const listener of [...set]) {
      try {
        listener(event as unknown as InstrumentationEvent<EventType>);
      } catch (error) {
        this.onListenerError(error, type);
      }
    }
  }
}
