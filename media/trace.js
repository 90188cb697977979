// The decoding trace page (src/extension/traceView.ts). Runs under a CSP that allows only this
// script; data comes by postMessage and is written with textContent, never as HTML.
// @ts-check
(function () {
  // eslint-disable-next-line no-undef
  const vscode = acquireVsCodeApi();
  const root = /** @type {HTMLElement} */ (document.getElementById('requests'));
  const refresh = /** @type {HTMLButtonElement} */ (document.getElementById('refresh'));
  refresh.addEventListener('click', () => vscode.postMessage({ type: 'refresh' }));
  // Shade the tokens by model call (which call committed them) or by confidence (how sure the
  // model was of each). The token's underline always shows its confidence.
  const shade = /** @type {HTMLButtonElement} */ (document.getElementById('shade'));
  shade.addEventListener('click', () => {
    const byConfidence = document.body.classList.toggle('by-confidence');
    shade.textContent = byConfidence ? 'Shade by model call' : 'Shade by confidence';
  });

  /** Red (unsure) through yellow to green (sure): the colour of a probability p in [0, 1]. */
  function confidenceColour(p, alpha) {
    const hue = Math.round(120 * Math.max(0, Math.min(1, p)));
    return `hsla(${hue}, 75%, 45%, ${alpha})`;
  }

  function percent(p) {
    return `${Math.round(p * 100)}%`;
  }

  const DRAFT_NAMES = { ptp: 'PTP', suffix: 'the FIM suffix', context: 'the context', document: 'the document', open: 'an open file', workspace: 'the workspace', typed: 'the typed whitespace' };

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
      ...(typeof s.confidence === 'number' ? [`confidence ${percent(s.confidence)}`] : []),
    ];
    head.append(el('span', 'facts', facts.join(' · ')));
    section.append(head);
    if (s.withheld) section.append(el('p', 'withheld', `Nothing shown: ${s.withheld.detail}`));

    // The committed text, one colour per call.
    const text = el('pre', 'tokens');
    r.calls.forEach((call, i) => {
      const span = el('span', `call c${i % 8}`);
      const callTitle = `call ${call.index}: ${call.tokens.length} token(s), ${call.acceptedDrafts} accepted draft(s)${call.draft && call.draft !== 'none' ? ` (from ${DRAFT_NAMES[call.draft] || call.draft})` : ''}, ${call.rows} rows, ${ms(call.ms)}`;
      span.title = callTitle;
      call.tokens.forEach((t, j) => {
        const tok = el('span', j === 0 ? 'tok first' : 'tok', visible(t));
        const p = Array.isArray(call.confidence) ? call.confidence[j] : undefined;
        if (typeof p === 'number') {
          // Set through the CSSOM (the page's CSP allows no inline style attributes).
          tok.style.setProperty('--confidence', confidenceColour(p, 0.9));
          tok.style.setProperty('--confidence-shade', confidenceColour(p, 0.45));
          tok.classList.add('rated');
          tok.title = `confidence ${percent(p)} (the probability the model gave this token)\n${callTitle}`;
        }
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
      row.append(el('td', undefined, String(call.index)), el('td', undefined, String(call.tokens.length)), el('td', undefined, String(call.acceptedDrafts)), el('td', undefined, call.draft && call.draft !== 'none' ? DRAFT_NAMES[call.draft] || call.draft : '—'), el('td', undefined, String(call.rows)), el('td', undefined, ms(call.ms)));
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
