/*
 * Switchboard web chat widget. One tag adds a chat launcher and panel to any page:
 *
 *   <script src="https://switchboard.example.com/widget.js" data-channel="CHANNEL_ID" async></script>
 *
 * Optional attributes: data-visitor-id + data-visitor-signature (hex HMAC-SHA256 of the id with the
 * channel's webhook_secret, computed by your server) for a signed-in user; data-title; data-agent-name
 * (who answers, when a message does not say; else the channel's config.agent_name); data-open="true".
 * Plain JS, no dependencies, no build step. Styles live in a shadow root so the host page's CSS
 * and ours never meet.
 */
(function () {
  'use strict';
  var script = document.currentScript || document.querySelector('script[data-channel][src*="widget.js"]');
  if (!script || !script.dataset.channel) return;
  var channel = script.dataset.channel;
  var base = new URL(script.src, location.href).origin;
  var api = base + '/v1/webchat/' + encodeURIComponent(channel);
  var storeKey = 'switchboard-chat:' + channel;
  var signedId = script.dataset.visitorId || null;
  var signature = script.dataset.visitorSignature || null;

  var CSS =
    ':host{all:initial;font:15px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24}' +
    '*{box-sizing:border-box}' +
    '.launcher{position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;background:#3b5bdb;color:#fff;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);z-index:2147483000;display:flex;align-items:center;justify-content:center}' +
    '.launcher:focus-visible,button:focus-visible,textarea:focus-visible{outline:3px solid #f59f00;outline-offset:2px}' +
    '.badge{position:absolute;top:-2px;right:-2px;min-width:20px;height:20px;border-radius:10px;background:#e03131;color:#fff;font-size:12px;line-height:20px;text-align:center;padding:0 5px}' +
    '.panel{position:fixed;right:20px;bottom:88px;width:370px;height:540px;max-height:calc(100vh - 110px);background:#fff;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.25);display:flex;flex-direction:column;overflow:hidden;z-index:2147483001}' +
    '.panel[hidden]{display:none}' +
    'header{background:#3b5bdb;color:#fff;padding:12px 14px;display:flex;align-items:center;gap:8px}' +
    'header h2{font-size:16px;margin:0;flex:1;font-weight:600}' +
    '.close{background:transparent;border:0;color:#fff;font-size:22px;cursor:pointer;width:32px;height:32px;border-radius:6px}' +
    '.status{font-size:12px;padding:4px 14px;background:#fff3bf;color:#5c3c00}' +
    '.status:empty{display:none}' +
    '.log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;background:#f8f9fa}' +
    '.msg{max-width:82%;padding:8px 12px;border-radius:14px;overflow-wrap:anywhere}' +
    '.txt{white-space:pre-wrap}.md{white-space:normal}.md p{margin:0 0 6px}.md p:last-child{margin:0}.md ul,.md ol{margin:4px 0;padding-left:20px}' +
    '.md code{font:13px ui-monospace,Menlo,monospace;background:rgba(0,0,0,.06);border-radius:3px;padding:0 3px}.md pre{margin:4px 0;padding:6px 8px;background:#f1f3f5;border-radius:6px;overflow-x:auto}.md pre code{background:none;padding:0}' +
    '.md a{color:#1c4ed8}.in a{color:#fff}' +
    '.meta{font-size:11px;opacity:.75;margin-top:3px}.meta b{font-weight:600}' +
    '.files img{display:block;max-width:100%;max-height:220px;border-radius:8px;margin-top:4px}.files a{display:block;margin-top:4px}.in .files a{color:#fff}' +
    '.attach{border:0;background:transparent;color:#495057;cursor:pointer;padding:0 4px;border-radius:6px}' +
    '.chips{display:flex;flex-wrap:wrap;gap:6px;padding:0 10px}.chips:empty{display:none}.chips span{background:#edf2ff;border-radius:12px;padding:3px 4px 3px 10px;font-size:13px;margin-top:8px}' +
    '.chips button{border:0;background:transparent;cursor:pointer;font-size:15px;padding:0 6px}' +
    '.in{align-self:flex-end;background:#3b5bdb;color:#fff;border-bottom-right-radius:4px}' +
    '.out,.note{align-self:flex-start;background:#fff;border:1px solid #dee2e6;border-bottom-left-radius:4px}' +
    '.note{color:#495057;background:#edf2ff;border-color:#dbe4ff}' +
    '.pending{opacity:.65}.failed{background:#fff5f5;color:#c92a2a;border:1px solid #ffc9c9}' +
    '.typing span{display:inline-block;width:7px;height:7px;margin:0 2px;border-radius:50%;background:#868e96;animation:b 1.2s infinite}' +
    '.typing span:nth-child(2){animation-delay:.2s}.typing span:nth-child(3){animation-delay:.4s}' +
    '@keyframes b{0%,80%,100%{opacity:.3}40%{opacity:1}}' +
    '@media (prefers-reduced-motion:reduce){.typing span{animation:none}}' +
    'form{display:flex;gap:8px;padding:10px;border-top:1px solid #dee2e6;background:#fff}' +
    'textarea{flex:1;resize:none;border:1px solid #ced4da;border-radius:8px;padding:8px;font:inherit;min-height:40px;max-height:120px}' +
    '.send{border:0;border-radius:8px;background:#3b5bdb;color:#fff;padding:0 14px;font:inherit;font-weight:600;cursor:pointer}' +
    '.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}' +
    '@media (max-width:480px){.panel{right:0;bottom:0;width:100vw;height:100vh;max-height:none;border-radius:0}.launcher{right:14px;bottom:14px}}';

  var CLIP_ICON = '<svg width="20" height="20" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" d="M21 11.5l-8.5 8.5a5 5 0 0 1-7-7L14 4.5a3.3 3.3 0 0 1 4.7 4.7l-8.6 8.6a1.7 1.7 0 0 1-2.4-2.4L15.5 7.5"/></svg>';
  var CHAT_ICON = '<svg width="26" height="26" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="currentColor" d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/></svg>';

  // ---- DOM -------------------------------------------------------------------------------------
  var host = document.createElement('div');
  host.id = 'switchboard-chat';
  var root = host.attachShadow({ mode: 'open' });
  // A constructed stylesheet is CSSOM, so a host page's strict CSP (no inline styles) still allows it.
  var adopted = false;
  try {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    root.adoptedStyleSheets = [sheet];
    adopted = true;
  } catch (e) { /* older browsers: a <style> element below */ }
  root.innerHTML =
    (adopted ? '' : '<style>' + CSS + '</style>') +
    '<button class="launcher" type="button" aria-haspopup="dialog" aria-expanded="false" aria-controls="sb-panel" aria-label="Open chat">' + CHAT_ICON + '<span class="badge" hidden></span></button>' +
    '<section class="panel" id="sb-panel" role="dialog" aria-labelledby="sb-title" hidden>' +
    '<header><h2 id="sb-title">Chat</h2><button class="close" type="button" aria-label="Close chat">&times;</button></header>' +
    '<div class="status" role="status" aria-live="polite"></div>' +
    '<div class="log" role="log" aria-live="polite" aria-relevant="additions text" aria-label="Messages" tabindex="0"></div>' +
    '<div class="chips" aria-live="polite"></div>' +
    '<form><label class="sr" for="sb-input">Your message</label>' +
    '<button class="attach" type="button" aria-label="Attach a file" title="Attach a file" hidden>' + CLIP_ICON + '</button>' +
    '<input class="file" type="file" multiple hidden tabindex="-1" aria-hidden="true">' +
    '<textarea id="sb-input" rows="1" maxlength="4000" placeholder="Write a message…" autocomplete="off"></textarea>' +
    '<button class="send" type="submit">Send</button></form></section>';
  var $ = function (sel) { return root.querySelector(sel); };
  var launcher = $('.launcher'), badge = $('.badge'), panel = $('.panel'), title = $('#sb-title'), statusEl = $('.status');
  var log = $('.log'), form = $('form'), input = $('textarea'), closeBtn = $('.close');
  var attachBtn = $('.attach'), fileInput = $('.file'), chips = $('.chips');
  if (script.dataset.title) title.textContent = script.dataset.title;
  // Who answers, when a message does not name its author: data-agent-name, else the session's agent_name.
  var agentName = script.dataset.agentName || 'Agent';

  // ---- state -----------------------------------------------------------------------------------
  var saved = load();
  var visitor = saved.visitor || null; // {visitor_id, token}
  var outbox = saved.outbox || []; // [{client_message_id, text}] not yet acknowledged, survives reloads
  var cursor = null;
  var conversationId = null;
  var bubbles = {}; // message id (or pending client id) -> {el, msg, final, text}
  var byClientId = {}; // client_message_id -> message id
  var es = null, backoff = 1000, reconnectTimer = null, sessionPromise = null, sending = false, unread = 0;
  var typingEl = null, typingTimer = null, greetingShown = false;
  var uploads = null, staged = []; // what may be attached (from the session); files uploaded, not sent yet

  function load() {
    try { return JSON.parse(localStorage.getItem(storeKey) || '{}'); } catch (e) { return {}; }
  }
  function save() {
    try { localStorage.setItem(storeKey, JSON.stringify({ visitor: signedId ? null : visitor, outbox: outbox })); } catch (e) { /* private mode */ }
  }
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16); crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return ('0' + x.toString(16)).slice(-2); }).join('');
  }
  function setStatus(text) { statusEl.textContent = text || ''; }

  // ---- Markdown --------------------------------------------------------------------------------
  // Agent answers are Markdown: paragraphs, **bold**, *italics*, `code`, fenced code, - / 1. lists and
  // [links](https://…). Built from createElement and text nodes only, so markup in a message is shown
  // as typed; links keep only http(s), mailto and tel. (Same rules as the dashboard's lib/markdown.js.)
  var INLINE = /`([^`\n]+)`|\*\*(\S(?:[\s\S]*?\S)?)\*\*|__(\S(?:[\s\S]*?\S)?)__|\*([^\s*](?:[\s\S]*?[^\s*])?)\*|(^|[^\w])_([^\s_](?:[\s\S]*?[^\s_])?)_(?!\w)|\[([^\]\n]+)\]\(((?:[^()\s]|\([^()\s]*\))+)\)|(https?:\/\/[^\s<>()]*[^\s<>().,;:!?'"\]])/g;
  var ITEM = /^\s{0,3}([-*+]|\d{1,9}[.)])\s+(.*)$/, FENCE = /^\s{0,3}```/;
  function el(tag, text) { var e = document.createElement(tag); if (text != null) e.textContent = text; return e; }
  function safeHref(raw) {
    try { var u = new URL(raw); return /^(https?|mailto|tel):$/.test(u.protocol) ? u.href : null; } catch (e) { return null; }
  }
  function inline(text, into, depth) {
    var at = 0, m, t = function (x) { into.appendChild(document.createTextNode(x)); };
    var re = new RegExp(INLINE.source, 'g'); // a fresh lastIndex per call: inline() recurses
    while ((m = re.exec(text))) {
      if (m.index > at) t(text.slice(at, m.index));
      at = m.index + m[0].length;
      if (m[1] != null) into.appendChild(el('code', m[1]));
      else if (m[2] != null || m[3] != null || m[4] != null || m[6] != null) {
        if (m[5]) t(m[5]);
        var b = m[2] != null || m[3] != null, inner = b ? (m[2] != null ? m[2] : m[3]) : (m[4] != null ? m[4] : m[6]), e = el(b ? 'strong' : 'em');
        if (depth < 3) inline(inner, e, depth + 1); else e.textContent = inner;
        into.appendChild(e);
      } else {
        var href = safeHref(m[8] != null ? m[8] : m[9]);
        if (!href) { t(m[7] != null ? m[7] : m[0]); continue; }
        var a = el('a', m[7] != null ? m[7] : m[9]);
        a.href = href; a.target = '_blank'; a.rel = 'noopener noreferrer nofollow';
        into.appendChild(a);
      }
    }
    if (at < text.length) t(text.slice(at));
  }
  function markdown(text) {
    var out = document.createDocumentFragment(), src = String(text).replace(/\r\n?/g, '\n').split('\n'), para = [], i, it;
    function flush() {
      if (!para.length) return;
      var p = el('p');
      para.forEach(function (l, k) { if (k) p.appendChild(el('br')); inline(l, p, 0); });
      out.appendChild(p); para = [];
    }
    for (i = 0; i < src.length; i++) {
      if (FENCE.test(src[i])) {
        flush();
        var code = [];
        while (++i < src.length && !FENCE.test(src[i])) code.push(src[i]);
        var pre = el('pre'); pre.appendChild(el('code', code.join('\n'))); out.appendChild(pre);
      } else if ((it = ITEM.exec(src[i]))) {
        flush();
        var ordered = /\d/.test(it[1]), list = el(ordered ? 'ol' : 'ul');
        if (ordered && parseInt(it[1], 10) !== 1) list.start = parseInt(it[1], 10);
        for (; i < src.length && (it = ITEM.exec(src[i])) && /\d/.test(it[1]) === ordered; i++) { var li = el('li'); inline(it[2], li, 0); list.appendChild(li); }
        i--;
        out.appendChild(list);
      } else if (!src[i].trim()) flush();
      else para.push(src[i]);
    }
    flush();
    return out;
  }

  // ---- rendering -------------------------------------------------------------------------------
  /** A bubble: its text (Markdown for answers) and a line with the author's name (answers) and the time. */
  function newBubble(cls) {
    var b = { el: el('div'), txt: el('div'), meta: el('div'), text: '' };
    b.el.className = 'msg ' + cls;
    b.txt.className = 'txt';
    b.meta.className = 'meta';
    b.el.appendChild(b.txt);
    b.el.appendChild(b.meta);
    return b;
  }
  /** Files of a message: images inline, anything else as a link. */
  function paintFiles(b, files) {
    if (!files || !files.length) return;
    if (!b.files) { b.files = el('div'); b.files.className = 'files'; b.el.insertBefore(b.files, b.meta); }
    b.files.replaceChildren();
    files.forEach(function (f) {
      var name = f.file_name || f.caption || f.kind || 'file';
      if (f.status && f.status !== 'ready' || !f.url) return b.files.appendChild(el('div', name + ' (not available)'));
      var a = el('a');
      a.href = f.url; a.target = '_blank'; a.rel = 'noopener';
      if (f.kind === 'image' || f.kind === 'sticker') { var img = el('img'); img.src = f.url; img.alt = f.caption || f.file_name || 'image'; a.appendChild(img); }
      else a.textContent = '📄 ' + name;
      b.files.appendChild(a);
    });
  }
  function paintText(b, text, out) {
    b.text = text;
    if (out) { b.txt.className = 'txt md'; b.txt.replaceChildren(markdown(text)); } else b.txt.textContent = text;
  }
  function paintMeta(b, m) {
    b.meta.replaceChildren();
    if (m.direction === 'out') {
      // The writer's own name (an operator's "Sam"); unnamed answers are the agent's (agentName).
      var a = m.author || {}, who = a.name || (a.kind === 'operator' ? 'Operator' : agentName);
      b.el.dataset.author = a.kind || 'agent';
      b.meta.appendChild(el('b', who));
      b.meta.appendChild(document.createTextNode(' · '));
    }
    if (m.created_at) {
      // Today's messages show the time; older ones the day as well.
      var d = new Date(m.created_at), today = d.toDateString() === new Date().toDateString();
      var tm = el('time', today ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : d.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }));
      tm.dateTime = m.created_at;
      tm.title = d.toLocaleString();
      b.meta.appendChild(tm);
    }
  }

  function place(el, createdAt) {
    el.dataset.at = createdAt || new Date().toISOString();
    var kids = log.querySelectorAll('.msg[data-at]');
    for (var i = kids.length - 1; i >= 0; i--) {
      if (kids[i] === el) continue;
      if (kids[i].dataset.at <= el.dataset.at) { kids[i].after(el); return fixTyping(); }
    }
    var first = log.querySelector('.msg[data-at]');
    if (first && first !== el) log.insertBefore(el, first); else log.appendChild(el);
    fixTyping();
  }
  function fixTyping() { if (typingEl) log.appendChild(typingEl); }
  function scroll() { log.scrollTop = log.scrollHeight; }

  /** Adds or updates one stored message; keyed by id, so a message seen twice is shown once. */
  function upsert(m, live) {
    if (!m || !m.id) return;
    var key = m.id;
    var b = bubbles[key];
    if (!b && m.client_message_id && bubbles['c:' + m.client_message_id]) {
      b = bubbles['c:' + m.client_message_id];
      delete bubbles['c:' + m.client_message_id];
      bubbles[key] = b;
    }
    if (m.client_message_id) byClientId[m.client_message_id] = m.id;
    if (!b) {
      b = bubbles[key] = newBubble(m.direction === 'out' ? 'out' : 'in');
      if (live && m.direction === 'out') bump();
    }
    b.el.classList.remove('pending', 'failed', 'streaming');
    b.el.dataset.id = m.id;
    if (m.text) {
      b.el.removeAttribute('aria-busy');
      b.final = true;
      if (m.text !== b.text || !b.painted) paintText(b, m.text, m.direction === 'out');
      b.painted = true;
    }
    paintFiles(b, m.attachments);
    paintMeta(b, m);
    place(b.el, m.created_at);
    if (m.direction === 'out') hideTyping();
    if (!cursor || m.updated_at > cursor) cursor = m.updated_at;
    scroll();
  }

  /** Streamed text of an answer: `offset` says where it goes, so repeats and gaps are harmless. */
  function delta(d) {
    var b = bubbles[d.message_id];
    if (b && b.final) return;
    if (!b) {
      b = bubbles[d.message_id] = newBubble('out streaming');
      paintMeta(b, { direction: 'out' });
      b.el.dataset.id = d.message_id;
      b.el.dataset.streamed = 'true';
      place(b.el);
      bump();
    }
    if (d.offset > b.text.length) return; // a gap: the final message will fill it in
    b.el.setAttribute('aria-busy', 'true');
    paintText(b, b.text.slice(0, d.offset) + d.text, true);
    hideTyping();
    scroll();
  }

  function pendingBubble(item) {
    var b = newBubble('in pending');
    paintText(b, item.text, false);
    paintFiles(b, item.files);
    bubbles['c:' + item.client_message_id] = b;
    place(b.el);
    scroll();
  }

  function showTyping(on) {
    clearTimeout(typingTimer);
    if (!on) return hideTyping();
    if (!typingEl) {
      typingEl = document.createElement('div');
      typingEl.className = 'msg out typing';
      typingEl.setAttribute('aria-label', 'The agent is typing');
      typingEl.innerHTML = '<span></span><span></span><span></span>';
      log.appendChild(typingEl);
      scroll();
    }
    typingTimer = setTimeout(hideTyping, 60000);
  }
  function hideTyping() {
    clearTimeout(typingTimer);
    if (typingEl) typingEl.remove();
    typingEl = null;
  }

  function note(text) {
    var el = document.createElement('div');
    el.className = 'msg note';
    el.textContent = text;
    log.insertBefore(el, log.firstChild);
  }

  function bump() {
    if (!panel.hidden) return;
    unread++;
    badge.textContent = String(unread);
    badge.hidden = false;
    launcher.setAttribute('aria-label', 'Open chat, ' + unread + ' new');
  }

  // ---- network ---------------------------------------------------------------------------------
  function post(path, body) {
    return fetch(api + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  }

  function session() {
    if (sessionPromise) return sessionPromise;
    var body = signedId ? { visitor_id: signedId, visitor_signature: signature } : visitor ? { visitor_id: visitor.visitor_id, token: visitor.token } : {};
    setStatus('Connecting…');
    sessionPromise = post('/session', body).then(function (r) {
      if (r.status === 403 && visitor && !signedId) {
        // Our stored visitor is no longer valid (the channel secret changed): start over.
        visitor = null; save(); sessionPromise = null;
        return session();
      }
      if (!r.ok) throw new Error('session ' + r.status);
      return r.json().then(function (s) {
        visitor = { visitor_id: s.visitor_id, token: s.token };
        save();
        if (!script.dataset.title && s.title) title.textContent = s.title;
        if (!script.dataset.agentName && s.agent_name) agentName = s.agent_name;
        uploads = s.uploads || null;
        attachBtn.hidden = !uploads;
        if (uploads) fileInput.accept = uploads.types.join(',');
        if (s.greeting && !greetingShown) { greetingShown = true; note(s.greeting); }
        s.messages.forEach(function (m) { upsert(m, false); });
        if (s.cursor && (!cursor || s.cursor > cursor)) cursor = s.cursor;
        conversationId = s.conversation_id;
        setStatus('');
        if (conversationId) connect();
        outbox.forEach(function (item) { if (!byClientId[item.client_message_id] && !bubbles['c:' + item.client_message_id]) pendingBubble(item); });
        flush();
      });
    }).catch(function () {
      sessionPromise = null;
      setStatus('Offline — retrying…');
      setTimeout(session, retryDelay());
    });
    return sessionPromise;
  }

  function retryDelay() {
    var d = backoff;
    backoff = Math.min(backoff * 2, 15000);
    return d + Math.random() * 300;
  }

  /** The live stream; on any error it is closed and reopened from the last message seen. */
  function connect() {
    if (!visitor || !conversationId) return;
    clearTimeout(reconnectTimer);
    if (es) es.close();
    var url = api + '/stream?visitor_id=' + encodeURIComponent(visitor.visitor_id) + '&token=' + encodeURIComponent(visitor.token) + (cursor ? '&after=' + encodeURIComponent(cursor) : '');
    var src = (es = new EventSource(url));
    src.onopen = function () { backoff = 1000; setStatus(''); flush(); };
    src.addEventListener('message', function (e) { upsert(JSON.parse(e.data), true); });
    src.addEventListener('delta', function (e) { delta(JSON.parse(e.data)); });
    src.addEventListener('typing', function (e) { showTyping(JSON.parse(e.data).active); });
    src.onerror = function () {
      if (es !== src) return;
      src.close();
      es = null;
      setStatus('Reconnecting…');
      reconnectTimer = setTimeout(connect, retryDelay());
    };
  }

  /** Sends queued messages one at a time, in order; a failure leaves them queued for the next try. */
  function flush() {
    if (sending || !outbox.length || !visitor) return;
    sending = true;
    var item = outbox[0];
    post('/messages', { visitor_id: visitor.visitor_id, token: visitor.token, text: item.text, client_message_id: item.client_message_id, attachments: (item.files || []).map(function (f) { return { media_id: f.id }; }) })
      .then(function (r) {
        if (r.status === 429) {
          var wait = Number(r.headers.get('retry-after')) || 2;
          setStatus('You are sending messages quickly — sending again in ' + wait + ' s');
          return new Promise(function (res) { setTimeout(res, wait * 1000); });
        }
        if (r.status >= 400 && r.status < 500) {
          outbox.shift(); save();
          var b = bubbles['c:' + item.client_message_id];
          return r.json().catch(function () { return {}; }).then(function (j) {
            if (b) { b.el.classList.remove('pending'); b.el.classList.add('failed'); b.txt.textContent = item.text + '\n(not sent: ' + (typeof j.detail === 'string' ? j.detail : 'refused') + ')'; }
          });
        }
        if (!r.ok) throw new Error('send ' + r.status);
        return r.json().then(function (j) {
          outbox.shift(); save();
          setStatus('');
          upsert(j.message);
          if (!j.duplicate) showTyping(true);
          // A new conversation (the first message, or the one after a close): follow it.
          if (j.conversation_id !== conversationId || !es) { conversationId = j.conversation_id; connect(); }
        });
      })
      .catch(function () { setStatus('Offline — your message will be sent when the connection is back'); return new Promise(function (res) { setTimeout(res, retryDelay()); }); })
      .then(function () { sending = false; flush(); });
  }

  function send(text) {
    var item = { client_message_id: uuid(), text: text, files: staged.splice(0) };
    paintChips();
    outbox.push(item);
    save();
    pendingBubble(item);
    if (!visitor) session(); else flush();
  }

  // ---- files -----------------------------------------------------------------------------------
  function paintChips() {
    chips.replaceChildren();
    staged.forEach(function (f, i) {
      var c = el('span', f.file_name || f.kind), x = el('button', '×');
      x.type = 'button';
      x.setAttribute('aria-label', 'Remove ' + (f.file_name || 'file'));
      x.addEventListener('click', function () { staged.splice(i, 1); paintChips(); input.focus(); });
      c.appendChild(x);
      chips.appendChild(c);
    });
  }
  /** Checked here against the chat's allow-list and cap (the server checks again), then uploaded. */
  function attach(file) {
    if (!uploads) return;
    if (uploads.types.indexOf(file.type) < 0) return setStatus('“' + file.name + '” cannot be sent: only ' + uploads.types.join(', '));
    if (file.size > uploads.max_bytes) return setStatus('“' + file.name + '” is larger than ' + Math.floor(uploads.max_bytes / 1048576) + ' MB');
    if (staged.length >= 5) return setStatus('At most 5 files per message');
    setStatus('Uploading ' + file.name + '…');
    var url = api + '/media?visitor_id=' + encodeURIComponent(visitor.visitor_id) + '&token=' + encodeURIComponent(visitor.token) + '&file_name=' + encodeURIComponent(file.name);
    fetch(url, { method: 'POST', headers: { 'content-type': file.type }, body: file })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (j) {
          if (!r.ok) throw new Error(typeof j.detail === 'string' ? j.detail : Array.isArray(j.detail) && j.detail[0] ? j.detail[0].msg : 'HTTP ' + r.status);
          staged.push(j);
          paintChips();
          setStatus('');
        });
      })
      .catch(function (e) { setStatus('“' + file.name + '” was not uploaded: ' + e.message); });
  }
  attachBtn.addEventListener('click', function () { fileInput.click(); });
  fileInput.addEventListener('change', function () {
    var files = Array.prototype.slice.call(fileInput.files || []);
    fileInput.value = '';
    (visitor ? Promise.resolve() : session()).then(function () { files.forEach(attach); });
  });

  // ---- interaction -----------------------------------------------------------------------------
  function open() {
    panel.hidden = false;
    launcher.setAttribute('aria-expanded', 'true');
    unread = 0;
    badge.hidden = true;
    launcher.setAttribute('aria-label', 'Close chat');
    session();
    input.focus();
    scroll();
  }
  function close() {
    panel.hidden = true;
    launcher.setAttribute('aria-expanded', 'false');
    launcher.setAttribute('aria-label', 'Open chat');
    launcher.focus();
  }
  launcher.addEventListener('click', function () { panel.hidden ? open() : close(); });
  closeBtn.addEventListener('click', close);
  panel.addEventListener('keydown', function (e) { if (e.key === 'Escape') close(); });
  form.addEventListener('submit', function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text && !staged.length) return;
    input.value = '';
    send(text);
    input.focus();
  });
  input.addEventListener('keydown', function (e) {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
  });
  window.addEventListener('online', function () { if (!es && conversationId) connect(); flush(); });

  (document.body || document.documentElement).appendChild(host);
  // A returning visitor reconnects right away (answers arriving while closed raise the badge).
  if (visitor || signedId || outbox.length) session();
  if (script.dataset.open === 'true') open();
  window.SwitchboardChat = { open: open, close: close };
})();
