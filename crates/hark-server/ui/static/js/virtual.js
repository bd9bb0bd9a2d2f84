// Windowed lists: of a long list of fixed-height rows, only those in view
// (plus a few above and below) are in the DOM, absolutely placed inside a
// spacer as tall as the whole list. Scrolling, or a list that grows, then
// costs the layout of a screenful of rows, however many rows the list has.
// Used by the search page's hits and the live tail. `visibleWindow` and
// `RingBuffer` are pure and tested under node.

/**
 * The rows to have in the DOM for a scroll position.
 * @param {number} scrollTop
 * @param {number} viewportHeight
 * @param {number} rowHeight
 * @param {number} count rows in the list
 * @param {number} [overscan] extra rows above and below
 * @returns {{start: number, end: number}} half-open index range
 */
export function visibleWindow(scrollTop, viewportHeight, rowHeight, count, overscan = 10) {
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const shown = Math.ceil(Math.max(0, viewportHeight) / rowHeight) + 1;
  const start = Math.max(0, first - overscan);
  const end = Math.min(count, first + shown + overscan);
  return { start, end: Math.max(start, end) };
}

/**
 * The scroll position that shows the last row at the bottom of the view.
 * @param {number} count rows in the list
 * @param {number} rowHeight
 * @param {number} viewportHeight
 * @returns {number}
 */
export function endScrollTop(count, rowHeight, viewportHeight) {
  return Math.max(0, count * rowHeight - viewportHeight);
}

/**
 * The newest `cap` items in arrival order; pushing beyond the cap evicts
 * the oldest in O(1). Each item keeps a sequence number (its position in
 * the whole arrival, from 0) that does not change when older ones leave.
 * @template T
 */
export class RingBuffer {
  /** @param {number} cap most items kept, at least 1 */
  constructor(cap) {
    /** Most items kept. */
    this.cap = Math.max(1, Math.floor(cap));
    /** @type {(T|undefined)[]} slots; `items[head]` is the oldest item kept */
    this.items = [];
    /** Slot of the oldest item kept. */
    this.head = 0;
    /** Items kept, at most `cap`. */
    this.length = 0;
    /** Sequence number of the oldest item kept (= items evicted so far). */
    this.first = 0;
  }

  /**
   * Adds an item as the newest; returns how many were evicted (0 or 1).
   * @param {T} item
   * @returns {number}
   */
  push(item) {
    if (this.length < this.cap) {
      const at = (this.head + this.length) % this.cap;
      this.items[at] = item;
      this.length += 1;
      return 0;
    }
    this.items[this.head] = item;
    this.head = (this.head + 1) % this.cap;
    this.first += 1;
    return 1;
  }

  /**
   * The item at index `i`, 0 being the oldest kept; undefined out of range.
   * @param {number} i
   * @returns {T|undefined}
   */
  at(i) {
    if (i < 0 || i >= this.length) return undefined;
    return this.items[(this.head + i) % this.cap];
  }

  /** Forgets every item; sequence numbers go on from where they were. */
  clear() {
    this.first += this.length;
    this.items = [];
    this.head = 0;
    this.length = 0;
  }
}

/**
 * @typedef {object} WindowedRowsOptions
 * @property {number} rowHeight CSS pixels, the rows' fixed height
 * @property {() => HTMLElement} create a new, empty row element
 * @property {(row: HTMLElement, index: number) => void} fill shows row `index` in an element (new or reused)
 * @property {(index: number) => number|string} [key] what stays the same while a row stays on the page
 *   (its index unless given); a row whose key is still in view keeps its element and content
 */

/**
 * The rows of a list that are in view, in a spacer inside a scrolling
 * viewport. Elements leaving the view are kept in a pool and refilled for
 * rows coming into it, so scrolling creates no elements once the pool is full.
 */
export class WindowedRows {
  /**
   * @param {HTMLElement} viewport the scrolling element
   * @param {HTMLElement} spacer its child, positioned, that holds the rows
   * @param {WindowedRowsOptions} opts
   */
  constructor(viewport, spacer, opts) {
    this.viewport = viewport;
    this.spacer = spacer;
    this.opts = opts;
    /** @type {Map<number|string, {row: HTMLElement, top: number}>} rows in the DOM by key */
    this.shown = new Map();
    /** @type {HTMLElement[]} row elements out of the DOM, ready for reuse */
    this.pool = [];
    /** Rows the spacer is sized for. */
    this.count = -1;
    /** @type {{start: number, end: number}|null} the rows rendered last, null after `invalidate` */
    this.window = null;
  }

  /** Makes the next render fill every row again (their content changed). */
  invalidate() {
    for (const { row } of this.shown.values()) {
      row.remove();
      this.pool.push(row);
    }
    this.shown.clear();
    this.window = null;
  }

  /**
   * Sizes the spacer for `count` rows and puts those in view into the DOM.
   * @param {number} count
   * @param {number} [scrollTop] the position to render for (the viewport's own if not given)
   * @param {number} [viewportHeight] the view's height (read from the viewport if not given)
   * @param {number} [overscan] rows rendered beyond each edge of the view
   * @returns {boolean} whether the range of indexes rendered changed (or every row was refilled)
   */
  render(count, scrollTop, viewportHeight, overscan = 10) {
    const { rowHeight, key = (/** @type {number} */ i) => i } = this.opts;
    if (count !== this.count) {
      this.count = count;
      this.spacer.style.height = `${count * rowHeight}px`;
    }
    const height = viewportHeight ?? this.viewport.clientHeight;
    const w = visibleWindow(scrollTop ?? this.viewport.scrollTop, height, rowHeight, count, overscan);
    const changed = !this.window || this.window.start !== w.start || this.window.end !== w.end;
    this.window = w;
    /** @type {Map<number|string, {row: HTMLElement, top: number}>} */
    const next = new Map();
    for (let i = w.start; i < w.end; i += 1) {
      const k = key(i);
      const kept = this.shown.get(k);
      if (kept) {
        this.shown.delete(k);
        next.set(k, kept);
      }
    }
    // Rows that left the view free their elements for the ones entering it.
    for (const { row } of this.shown.values()) {
      row.remove();
      this.pool.push(row);
    }
    // Rows entering the view go in at their place, so that the DOM's order
    // (read by assistive technology) stays the list's order.
    /** @type {HTMLElement|null} */
    let prev = null;
    for (let i = w.start; i < w.end; i += 1) {
      const k = key(i);
      const top = i * rowHeight;
      let entry = next.get(k);
      if (!entry) {
        const row = this.pool.pop() ?? this.opts.create();
        this.opts.fill(row, i);
        entry = { row, top: -1 };
        next.set(k, entry);
        if (prev) prev.after(row);
        else this.spacer.prepend(row);
      }
      if (entry.top !== top) {
        entry.top = top;
        entry.row.style.transform = `translateY(${top}px)`;
      }
      prev = entry.row;
    }
    this.shown = next;
    return changed;
  }
}
