// The decoding trace page (src/extension/traceView.ts). Runs under a CSP that allows only this
// script; data comes by postMessage and is written with textContent, never as HTML.
// @ts-check
(function () {
  // eslint-disable-next-line no-undef
  const vscode = acquireVsCodeApi();
  const root = /** @type {HTMLElement} */ (document.getElementById('requests'));
  const refresh = /** @type {HTMLButtonElement} */ (document.getElementById('refresh'));
  refresh.addEventListener('click', () => vscode.postMessage({ type: 'refresh' }));

  /** @param {string} tag @param {string} [cls] @param {string} [text] */
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  /** Whitespace made visible, so a token that is a space or a line break can be seen. */
  function visible(token) {
    return token.replace(/ /g, '\u00b7').replace(/\t/g, '\u2192').replace(/\n/g, '\u21b5\n');
  }

  function ms(x) {
    return `${Math.round(x)} ms`;
  }

  function basename(uri) {
    try {
      return decodeURIComponent(uri.split('/').pop() || uri);
    } catch {
      return uri;
    }
  }

  function renderRequest(r) {
    const s = r.stats;
    const section = el('section', 'request');
    const head = el('div', 'head');
    head.append(el('span', 'file', basename(r.uri)), el('span', 'decoder ' + r.decoder, r.decoder.toUpperCase()));
    const facts = [
      `${s.tokens} tokens in ${s.calls} calls`,
      `${s.tokensPerCall.toFixed(2)} tokens/call`,
      `block size ${s.blockSize}`,
      `${s.scope} scope`,
      `seed ${s.seed}`,
      `prefill ${ms(s.msPrefill)}`,
      `decode ${ms(s.msDecode)}`,
      `total ${ms(s.msTotal)}`,
      `stop: ${s.stopReason}`,
    ];
    head.append(el('span', 'facts', facts.join(' · ')));
    section.append(head);

    // The committed text, one colour per call.
    const text = el('pre', 'tokens');
    r.calls.forEach((call, i) => {
      const span = el('span', `call c${i % 8}`);
      span.title = `call ${call.index}: ${call.tokens.length} token(s), ${call.acceptedDrafts} accepted draft(s)${call.draft && call.draft !== 'none' ? ` (${call.draft === 'context' ? 'from the context' : 'from PTP'})` : ''}, ${call.rows} rows, ${ms(call.ms)}`;
      call.tokens.forEach((t, j) => {
        const tok = el('span', j === 0 ? 'tok first' : 'tok', visible(t));
        span.append(tok);
      });
      text.append(span);
    });
    if (r.calls.length === 0) text.append(el('span', 'empty', '(no tokens)'));
    section.append(text);

    // Tokens per call as bars, with the time of each call.
    const max = Math.max(1, ...r.calls.map((c) => c.tokens.length));
    const bars = el('div', 'bars');
    bars.setAttribute('role', 'img');
    bars.setAttribute('aria-label', 'tokens committed per call');
    r.calls.forEach((call, i) => {
      const bar = el('div', 'bar');
      const fill = el('div', `fill c${i % 8}`);
      fill.style.height = `${(100 * call.tokens.length) / max}%`;
      bar.title = `call ${call.index}: ${call.tokens.length} token(s), ${ms(call.ms)}`;
      bar.append(fill, el('div', 'n', String(call.tokens.length)));
      bars.append(bar);
    });
    section.append(bars);

    const table = el('table', 'calls');
    const header = el('tr');
    for (const h of ['call', 'tokens', 'accepted drafts', 'drafted by', 'rows', 'time']) header.append(el('th', undefined, h));
    table.append(header);
    for (const call of r.calls) {
      const row = el('tr');
      row.append(el('td', undefined, String(call.index)), el('td', undefined, String(call.tokens.length)), el('td', undefined, String(call.acceptedDrafts)), el('td', undefined, call.draft === 'context' ? 'context' : call.draft === 'ptp' ? 'PTP' : '—'), el('td', undefined, String(call.rows)), el('td', undefined, ms(call.ms)));
      table.append(row);
    }
    const details = el('details');
    details.append(el('summary', undefined, 'Calls'), table);
    section.append(details);
    return section;
  }

  window.addEventListener('message', (event) => {
    const m = event.data;
    root.textContent = '';
    if (m.type === 'error') {
      root.append(el('p', 'error', m.message));
      return;
    }
    if (m.type !== 'trace') return;
    if (m.trace.requests.length === 0) {
      root.append(el('p', 'empty', 'No requests yet. Type in an editor or run Generate Code…, then Refresh.'));
      return;
    }
    for (const r of m.trace.requests) root.append(renderRequest(r));
  });

  vscode.postMessage({ type: 'ready' });
})();
