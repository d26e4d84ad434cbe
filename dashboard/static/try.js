// The "Try it" phone: texts as a chat, calls with a keypad, captions,
// speech and a recorder. Every step is a POST to /try/api/..., where the
// server plays Twilio's part against its own webhooks.
(() => {
  'use strict';

  const $ = (id) => document.getElementById(id);
  const surveySelect = $('survey');
  const fromInput = $('from');
  const smsPanel = $('sms');
  const chat = $('chat');
  const phone = $('phone');
  const captions = $('captions');
  const keypad = $('keypad');
  const keysTyped = $('keys-typed');
  const player = $('player');
  const recordText = $('record-text');
  const micButton = $('mic');
  const micStatus = $('mic-status');

  function survey() {
    const o = surveySelect.selectedOptions[0];
    if (!o) return { id: '', keyword: '', lang: 'en-GB' };
    return { id: o.value, keyword: o.dataset.keyword || '', lang: o.dataset.lang || 'en-GB' };
  }

  function from() { return fromInput.value.trim(); }

  function showError(id, msg) {
    const el = $(id);
    el.textContent = msg || '';
    el.hidden = !msg;
  }

  // api posts JSON (or a FormData) and returns the JSON answer; a 4xx or
  // 5xx throws an Error with the server's plain reason.
  async function api(path, body) {
    const opts = { method: 'POST', headers: {}, credentials: 'same-origin' };
    if (body instanceof FormData) {
      opts.body = body;
    } else if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, opts);
    } catch (e) {
      throw new Error('The server could not be reached. Is haveyoursay dev still running?');
    }
    let data = {};
    try { data = await res.json(); } catch (e) { data = { error: 'The server answered ' + res.status + '.' }; }
    if (!res.ok) {
      const err = new Error(data.error || ('The server answered ' + res.status + '.'));
      err.status = res.status;
      err.data = data;
      throw err;
    }
    return data;
  }

  // ---- Text ----

  function updateKeyword() {
    const s = survey();
    const b = $('sms-start');
    b.textContent = s.keyword ? 'Text the keyword ' + s.keyword : 'This survey has no keyword';
    b.disabled = !s.keyword;
  }

  function bubble(cls, who, text) {
    const li = document.createElement('li');
    li.className = cls;
    const w = document.createElement('span');
    w.className = 'who';
    w.textContent = who + ': ';
    li.append(w, document.createTextNode(text));
    chat.append(li);
    chat.scrollTop = chat.scrollHeight;
  }

  async function text(body) {
    body = body.trim();
    if (!body || smsPanel.dataset.busy === 'true') return;
    showError('sms-error', '');
    bubble('me', 'You', body);
    smsPanel.dataset.busy = 'true';
    try {
      const r = await api('/try/api/sms', { survey: survey().id, from: from(), body });
      if (!r.replies.length) bubble('reply', 'Reply', '(No reply)');
      r.replies.forEach((t) => bubble('reply', 'Reply', t));
    } catch (e) {
      showError('sms-error', e.message);
    } finally {
      smsPanel.dataset.busy = 'false';
    }
  }

  $('sms-start').addEventListener('click', () => text(survey().keyword));
  $('sms-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const input = $('sms-body');
    const body = input.value;
    input.value = '';
    text(body);
    input.focus();
  });
  surveySelect.addEventListener('change', updateKeyword);
  updateKeyword();

  // ---- Phone ----

  let call = null; // the call as the server last described it
  let keys = '';   // keys pressed so far, for a question that wants several

  // Playback: spoken text through the browser's speech synthesis, audio
  // through <audio>, one after another. Any action of the caller stops it,
  // as a key press stops a prompt on a real phone.
  let playToken = 0;

  function stopPlayback() {
    playToken++;
    stopWait();
    if ('speechSynthesis' in window) speechSynthesis.cancel();
    player.pause();
  }

  function speak(words, lang) {
    return new Promise((resolve) => {
      if (!('speechSynthesis' in window)) { resolve(); return; }
      const u = new SpeechSynthesisUtterance(words);
      u.lang = lang || 'en-GB';
      u.rate = 0.9;
      u.onend = resolve;
      u.onerror = resolve;
      // Some browsers have no voices and never end: never wait for ever.
      setTimeout(resolve, 3000 + words.length * 120);
      speechSynthesis.speak(u);
    });
  }

  function playAudio(src) {
    return new Promise((resolve) => {
      player.src = src;
      player.onended = resolve;
      player.onerror = resolve;
      const p = player.play();
      if (p) p.catch(resolve);
      setTimeout(resolve, 5 * 60 * 1000);
    });
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  // playAll plays what the phone said, then starts the wait for the
  // caller, as Twilio's <Gather> timeout starts when its prompts end.
  // Without reading aloud, the time the words take to say still passes.
  async function playAll(items, lang) {
    const token = ++playToken;
    for (const h of items) {
      if (token !== playToken) return;
      if (!$('read-aloud').checked) {
        if (h.say) await sleep(h.say.split(/\s+/).length * 400);
      } else if (h.say) {
        await speak(h.say, lang);
      } else if (h.play) {
        await playAudio(h.play);
      }
    }
    if (token === playToken) startWait();
  }

  // The phone's wait: when the caller does nothing for the <Gather>'s
  // timeout, Twilio goes on without input. "Take your time" turns this
  // off, for anyone who needs longer (WCAG 2.2.1).
  let waitTimer = null;

  function stopWait() {
    clearInterval(waitTimer);
    waitTimer = null;
    $('wait-note').textContent = '';
  }

  function startWait() {
    stopWait();
    if (!call || call.waiting !== 'gather' || !call.gather || $('take-time').checked) return;
    let left = call.gather.timeout;
    if (!(left > 0)) return;
    const tell = () => { $('wait-note').textContent = 'The phone waits ' + left + (left === 1 ? ' more second.' : ' more seconds.'); };
    tell();
    waitTimer = setInterval(() => {
      left--;
      if (left > 0) { tell(); return; }
      stopWait();
      send('silence', undefined, 'You waited and said nothing.');
    }, 1000);
  }

  $('take-time').addEventListener('change', () => { if ($('take-time').checked) stopWait(); else startWait(); });

  function fileName(url) {
    const parts = url.split('?')[0].split('/');
    return parts[parts.length - 1] || url;
  }

  function addTurn(heard, lang) {
    const li = document.createElement('li');
    li.className = 'turn';
    for (const h of heard) {
      const p = document.createElement('p');
      if (h.say) p.textContent = h.say;
      else if (h.play) p.textContent = '(A sound plays: ' + fileName(h.play) + ')';
      else if (h.tones) p.textContent = '(Key tones: ' + h.tones + ')';
      else if (h.dial) p.textContent = '(Putting you through to ' + h.dial + ')';
      li.append(p);
    }
    captions.append(li);
    captions.scrollTop = captions.scrollHeight;
    playAll(heard, lang);
  }

  function note(words) {
    const li = document.createElement('li');
    li.className = 'me';
    li.textContent = words;
    captions.append(li);
    captions.scrollTop = captions.scrollHeight;
  }

  function setBusy(busy) {
    phone.dataset.busy = busy ? 'true' : 'false';
    controls();
  }

  // controls enables what the call is waiting for, and nothing else.
  function controls() {
    const busy = phone.dataset.busy === 'true';
    const waiting = call ? call.waiting : 'idle';
    phone.dataset.waiting = waiting;
    const live = waiting === 'gather' || waiting === 'record';
    const g = waiting === 'gather' ? call.gather : null;
    for (const b of keypad.querySelectorAll('button')) b.disabled = busy || !(g && g.keys);
    $('say-form').hidden = !(g && g.speech);
    $('silence').disabled = busy || !live;
    $('record-panel').hidden = waiting !== 'record';
    $('record-send').disabled = busy;
    micButton.disabled = busy;
    $('call-start').disabled = busy || live;
    $('call-hangup').disabled = busy || !live;
    let status = 'Not in a call.';
    if (busy) status = 'Please wait…';
    else if (waiting === 'gather') status = g && g.speech ? 'Your turn: press a key, or say something.' : 'Your turn: press a key.';
    else if (waiting === 'record') status = 'The phone is recording. Speak or type, then press Finish recording.';
    else if (waiting === 'ended') status = 'The call has ended.';
    $('call-status').textContent = status;
  }

  function show(v) {
    call = v;
    keys = '';
    keysTyped.textContent = '';
    phone.dataset.steps = String(Number(phone.dataset.steps) + 1);
    if (v.heard && v.heard.length) addTurn(v.heard, v.lang);
    else playAll([], v.lang); // nothing said: the wait starts at once
    if (v.waiting === 'record') {
      micStatus.textContent = '';
      recordText.focus();
    }
  }

  async function send(action, body, words) {
    if (!call || phone.dataset.busy === 'true') return;
    stopPlayback();
    showError('call-error', '');
    if (words) note(words);
    setBusy(true);
    try {
      show(await api('/try/api/call/' + encodeURIComponent(call.id) + '/' + action, body));
    } catch (e) {
      showError('call-error', e.message);
      if (e.data && e.data.call) show(e.data.call);
      else if (e.status === 404) call = Object.assign({}, call, { waiting: 'ended' });
    } finally {
      setBusy(false);
    }
  }

  $('call-start').addEventListener('click', async () => {
    stopPlayback();
    showError('call-error', '');
    captions.textContent = '';
    call = null;
    setBusy(true);
    $('call-status').textContent = 'Ringing…';
    try {
      show(await api('/try/api/call', { survey: survey().id, from: from() }));
    } catch (e) {
      showError('call-error', e.message);
      if (e.data && e.data.call) show(e.data.call);
    } finally {
      setBusy(false);
    }
  });

  $('call-hangup').addEventListener('click', () => send('hangup', undefined, 'You hung up.'));
  $('silence').addEventListener('click', () => send('silence', undefined, 'You said nothing.'));

  const keyNames = { '*': 'star', '#': 'hash' };

  function press(k) {
    if (!call || call.waiting !== 'gather' || !call.gather || !call.gather.keys) return;
    if (phone.dataset.busy === 'true') return;
    stopPlayback();
    const g = call.gather;
    keys += k;
    const finished = (g.finishOnKey && g.finishOnKey.includes(k)) || !g.finishOnKey ||
      g.numDigits === 1 || (g.numDigits > 0 && keys.length >= g.numDigits);
    if (finished) {
      const d = keys;
      keys = '';
      send('press', { digits: d }, 'You pressed ' + d.split('').map((c) => keyNames[c] || c).join(' '));
    } else {
      keysTyped.textContent = 'Keys so far: ' + keys + '. Press ' + (keyNames[g.finishOnKey] || g.finishOnKey) + ' when you have finished.';
      startWait(); // the timeout runs again after each key
    }
  }

  keypad.addEventListener('click', (e) => {
    const b = e.target.closest('button[data-key]');
    if (b && !b.disabled) press(b.dataset.key);
  });

  // Keys typed on the keyboard press the keypad, unless typing in a box.
  document.addEventListener('keydown', (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.target.closest && e.target.closest('input, textarea, select')) return;
    if (!/^[0-9*#]$/.test(e.key) || !call || call.waiting !== 'gather') return;
    e.preventDefault();
    press(e.key);
  });

  $('say-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const input = $('say-text');
    const words = input.value.trim();
    if (!words) return;
    input.value = '';
    send('speak', { text: words }, 'You said: "' + words + '"');
  });

  // ---- Recording ----

  let recorder = null;
  let stream = null;
  let chunks = [];

  micButton.addEventListener('click', async () => {
    if (recorder && recorder.state === 'recording') {
      await stopMic();
      micStatus.textContent = 'Stopped. Press Finish recording to send it.';
      return;
    }
    if (!navigator.mediaDevices || !window.MediaRecorder) {
      micStatus.textContent = 'This browser cannot record here. Type what you would say instead.';
      return;
    }
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (e) {
      micStatus.textContent = 'The microphone is not available. Type what you would say instead.';
      return;
    }
    chunks = [];
    recorder = new MediaRecorder(stream);
    recorder.ondataavailable = (e) => { if (e.data.size) chunks.push(e.data); };
    recorder.start();
    micButton.textContent = 'Stop my microphone';
    micStatus.textContent = 'Recording. Speak now.';
  });

  function stopMic() {
    return new Promise((resolve) => {
      micButton.textContent = 'Use my microphone';
      if (!recorder || recorder.state !== 'recording') { resolve(); return; }
      recorder.onstop = () => {
        stream.getTracks().forEach((t) => t.stop());
        resolve();
      };
      recorder.stop();
    });
  }

  // toWAV turns what the browser recorded (WebM or Ogg) into what Twilio
  // records: WAV, 8 kHz, mono, 16-bit.
  async function toWAV(blob) {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    const ctx = new Ctx();
    let decoded;
    try {
      decoded = await ctx.decodeAudioData(await blob.arrayBuffer());
    } finally {
      ctx.close();
    }
    const rate = 8000;
    const off = new OfflineAudioContext(1, Math.max(1, Math.ceil(decoded.duration * rate)), rate);
    const src = off.createBufferSource();
    src.buffer = decoded;
    src.connect(off.destination);
    src.start();
    const samples = (await off.startRendering()).getChannelData(0);
    const view = new DataView(new ArrayBuffer(44 + samples.length * 2));
    const ascii = (at, s) => { for (let i = 0; i < s.length; i++) view.setUint8(at + i, s.charCodeAt(i)); };
    ascii(0, 'RIFF');
    view.setUint32(4, 36 + samples.length * 2, true);
    ascii(8, 'WAVE');
    ascii(12, 'fmt ');
    view.setUint32(16, 16, true);
    view.setUint16(20, 1, true);        // PCM
    view.setUint16(22, 1, true);        // mono
    view.setUint32(24, rate, true);
    view.setUint32(28, rate * 2, true); // bytes a second
    view.setUint16(32, 2, true);
    view.setUint16(34, 16, true);
    ascii(36, 'data');
    view.setUint32(40, samples.length * 2, true);
    for (let i = 0; i < samples.length; i++) {
      const s = Math.max(-1, Math.min(1, samples[i]));
      view.setInt16(44 + i * 2, s < 0 ? s * 0x8000 : s * 0x7fff, true);
    }
    return new Blob([view], { type: 'audio/wav' });
  }

  $('record-send').addEventListener('click', async () => {
    await stopMic();
    const words = recordText.value.trim();
    recordText.value = '';
    let wav = null;
    if (chunks.length) {
      const blob = new Blob(chunks, { type: recorder.mimeType });
      chunks = [];
      try { wav = await toWAV(blob); } catch (e) { micStatus.textContent = 'Your voice could not be used, so only your typed words are sent.'; }
    }
    let body = { text: words };
    let said = words ? 'You said: "' + words + '"' : 'You said nothing.';
    if (wav) {
      body = new FormData();
      body.append('audio', wav, 'recording.wav');
      body.append('text', words);
      said = 'You recorded your voice' + (words ? ': "' + words + '"' : '.');
    }
    send('record', body, said);
  });

  controls();
})();
