// A scriptable SMSC on 127.0.0.1 built on the npm package `smpp` (node-smpp), the
// independent peer of tests/channels/smpp and bench/smpp.py.
//
//   NODE_PATH=<repo>/node_modules node node_smsc.js '<json config>'
//
// Config: port (0 = any), users {system_id: password}, quiet (no per-submit log lines),
// id_base (first message id number),
// id_format "dec"|"hex", dlr null|"text"|"text_other_radix"|"tlv"|"garbage",
// dlr_stat, dlr_delay_ms, throttle_every N (every Nth submit_sm answered throttle_status,
// default 0x58), status_for_dest {dest: command_status} (always answer that status),
// malformed_at N (the Nth submit_sm is answered with a broken frame instead),
// bad_resp_at N (the Nth submit_sm_resp has no NUL after message_id), silent_at N (the
// Nth submit_sm is never answered).
// Stdout: one JSON object per line (events). Stdin: one JSON command per line
// ({"cmd":"mo",...}, {"cmd":"mo_parts",...}, {"cmd":"deliver_raw",...}, {"cmd":"receipt","id":...,"stat":...},
// {"cmd":"enquire_link"}, {"cmd":"unbind"}, {"cmd":"sync","token":N}).
'use strict';
const smpp = require('smpp');
const readline = require('readline');

const cfg = Object.assign({
  port: 0, users: {telcamp: 'secret'}, quiet: false, id_format: 'dec', dlr: null,
  dlr_stat: 'DELIVRD', dlr_delay_ms: 5, throttle_every: 0, throttle_status: 0x58,
  malformed_at: 0, bad_resp_at: 0, silent_at: 0, status_for_dest: {},
}, JSON.parse(process.argv[2] || '{}'));

// Raw bytes, not node-smpp's decoded text: the test compares both.
const rawFilter = {encode: smpp.filters.message.encode, decode: (v) => v};
smpp.filters.message.decode = rawFilter.decode;

function log(obj) { process.stdout.write(JSON.stringify(obj) + '\n'); }

function nodeDecode(buf, dataCoding, udhi) {
  // node-smpp's own decoders (GSM 03.38 with extension table, UCS2): an independent reading
  let body = buf;
  let udh = null;
  if (udhi && buf.length) { udh = buf.slice(0, buf[0] + 1); body = buf.slice(buf[0] + 1); }
  const enc = (dataCoding & 0x0f) === 8 ? 'UCS2' : (dataCoding & 0x0f) === 3 ? 'LATIN1' : 'ASCII';
  return {text: smpp.encodings[enc].decode(body), udh: udh ? udh.toString('hex') : null};
}

let counter = cfg.id_base || (1000 + Math.floor(Math.random() * 1000));
let submits = 0;
const sessions = new Set();

const server = smpp.createServer(function (session) {
  session.bound = false;
  for (const command of ['bind_transceiver', 'bind_transmitter', 'bind_receiver']) {
    session.on(command, function (pdu) {
      const ok = cfg.users[pdu.system_id] !== undefined && cfg.users[pdu.system_id] === pdu.password;
      log({ev: 'bind', command, system_id: pdu.system_id, ok});
      if (!ok) {
        session.send(pdu.response({command_status: smpp.ESME_RINVPASWD}));
        return;
      }
      session.bound = command;
      sessions.add(session);
      session.send(pdu.response({system_id: 'node-smsc'}));
    });
  }
  session.on('submit_sm', function (pdu) {
    submits += 1;
    const n = submits;
    if (cfg.silent_at && n === cfg.silent_at) {
      log({ev: 'silent', seq: pdu.sequence_number, dest: pdu.destination_addr});
      return; // never answered: the client's response timer must notice
    }
    if (cfg.malformed_at && n === cfg.malformed_at) {
      log({ev: 'malformed_sent', seq: pdu.sequence_number});
      const b = Buffer.alloc(16);
      b.writeUInt32BE(8, 0); // command_length 8: impossible, the stream is broken
      b.writeUInt32BE(0x80000004, 4);
      b.writeUInt32BE(0, 8);
      b.writeUInt32BE(pdu.sequence_number, 12);
      session.socket.write(b);
      return;
    }
    if (cfg.throttle_every && n % cfg.throttle_every === 0) {
      if (!cfg.quiet) log({ev: 'throttled', seq: pdu.sequence_number});
      session.send(pdu.response({command_status: cfg.throttle_status}));
      return;
    }
    const fixed = cfg.status_for_dest[pdu.destination_addr];
    if (fixed) {
      log({ev: 'refused', seq: pdu.sequence_number, dest: pdu.destination_addr, status: fixed});
      session.send(pdu.response({command_status: fixed}));
      return;
    }
    counter += 1;
    const num = counter;
    const id = cfg.id_format === 'hex' ? num.toString(16) : String(num);
    if (cfg.bad_resp_at && n === cfg.bad_resp_at) {
      log({ev: 'bad_resp_sent', seq: pdu.sequence_number, id});
      const body = Buffer.from(id, 'ascii'); // no terminating NUL
      const b = Buffer.alloc(16 + body.length);
      b.writeUInt32BE(16 + body.length, 0);
      b.writeUInt32BE(0x80000004, 4);
      b.writeUInt32BE(0, 8);
      b.writeUInt32BE(pdu.sequence_number, 12);
      body.copy(b, 16);
      session.socket.write(b);
      return;
    }
    if (!cfg.quiet) {
      const sm = Buffer.isBuffer(pdu.short_message) ? pdu.short_message : Buffer.alloc(0);
      const payload = Buffer.isBuffer(pdu.message_payload) ? pdu.message_payload : null;
      const dec = nodeDecode(payload || sm, pdu.data_coding, (pdu.esm_class & 0x40) !== 0);
      log({
        ev: 'submit', seq: pdu.sequence_number, id, dest: pdu.destination_addr,
        src: pdu.source_addr, esm_class: pdu.esm_class, data_coding: pdu.data_coding,
        registered_delivery: pdu.registered_delivery, hex: sm.toString('hex'),
        user_message_reference: pdu.user_message_reference,
        payload: payload ? payload.toString('hex') : null, text: dec.text, udh: dec.udh,
        sar: pdu.sar_msg_ref_num !== undefined
          ? [pdu.sar_msg_ref_num, pdu.sar_total_segments, pdu.sar_segment_seqnum] : null,
      });
    }
    session.send(pdu.response({message_id: id}));
    if (cfg.dlr && (pdu.registered_delivery & 1)) {
      setTimeout(() => sendReceipt(session, pdu, num, id), cfg.dlr_delay_ms);
    }
  });
  session.on('enquire_link', function (pdu) {
    log({ev: 'enquire_link'});
    session.send(pdu.response());
  });
  session.on('enquire_link_resp', () => log({ev: 'enquire_link_resp'}));
  session.on('deliver_sm_resp', (pdu) => log({ev: 'deliver_sm_resp', status: pdu.command_status, seq: pdu.sequence_number}));
  session.on('generic_nack', (pdu) => log({ev: 'generic_nack', status: pdu.command_status, seq: pdu.sequence_number}));
  session.on('unbind', function (pdu) {
    log({ev: 'unbind'});
    session.send(pdu.response());
    session.close();
  });
  session.on('close', () => { sessions.delete(session); log({ev: 'close'}); });
  session.on('error', (e) => log({ev: 'error', message: String(e && e.message)}));
});

function sendReceipt(session, pdu, num, id) {
  if (!sessions.has(session)) return;
  const stat = cfg.dlr_stat;
  const rid = cfg.dlr === 'text_other_radix'
    ? (cfg.id_format === 'hex' ? String(num) : num.toString(16)) : id;
  const base = {source_addr: pdu.destination_addr, destination_addr: pdu.source_addr, esm_class: 0x04};
  if (pdu.user_message_reference !== undefined) base.user_message_reference = pdu.user_message_reference;
  let opts;
  if (cfg.dlr === 'tlv') {
    opts = Object.assign(base, {short_message: Buffer.alloc(0), receipted_message_id: id,
      message_state: stat === 'DELIVRD' ? 2 : 5});
  } else if (cfg.dlr === 'garbage') {
    opts = Object.assign(base, {short_message: Buffer.from('status report ' + id + ' ok?', 'ascii')});
  } else {
    const text = `id:${rid} sub:001 dlvrd:001 submit date:2611221200 done date:2611221201 stat:${stat} err:000 text:hello`;
    opts = Object.assign(base, {short_message: Buffer.from(text, 'ascii')});
  }
  session.deliver_sm(opts);
  if (!cfg.quiet) log({ev: 'receipt_sent', id, rid});
}

function toAll(fn) {
  for (const s of sessions) if (s.bound === 'bind_transceiver' || s.bound === 'bind_receiver') fn(s);
}

readline.createInterface({input: process.stdin}).on('line', function (line) {
  if (!line.trim()) return;
  const c = JSON.parse(line);
  if (c.cmd === 'mo') {
    const dc = c.data_coding || 0;
    const buf = dc === 8 ? smpp.encodings.UCS2.encode(c.text) : smpp.encodings.ASCII.encode(c.text);
    toAll((s) => s.deliver_sm({source_addr: c.source, destination_addr: c.destination,
      esm_class: 0, data_coding: dc, short_message: buf}));
    log({ev: 'mo_sent'});
  } else if (c.cmd === 'mo_parts') {
    // One multi-part MO: part i (1-based) carries c.parts[i-1] after an 8-bit
    // concatenation UDH (ref c.ref, total c.parts.length). c.send: the part numbers to
    // send (default all, in order); c.spread: part k goes to the k-th bound session in
    // turn (several binds) instead of to all of them.
    const dc = c.data_coding || 0;
    const total = c.parts.length;
    const bound = [...sessions].filter(
      (s) => s.bound === 'bind_transceiver' || s.bound === 'bind_receiver');
    (c.send || c.parts.map((_, i) => i + 1)).forEach((n, k) => {
      const udh = Buffer.from([5, 0, 3, c.ref & 0xff, total, n]);
      const body = dc === 8 ? smpp.encodings.UCS2.encode(c.parts[n - 1])
        : smpp.encodings.ASCII.encode(c.parts[n - 1]);
      const pdu = {source_addr: c.source, destination_addr: c.destination, esm_class: 0x40,
        data_coding: dc, short_message: Buffer.concat([udh, body])};
      const targets = c.spread ? [bound[k % bound.length]] : bound;
      for (const s of targets) s.deliver_sm(pdu);
    });
    log({ev: 'mo_parts_sent'});
  } else if (c.cmd === 'deliver_raw') {
    const opts = {source_addr: c.source || '', destination_addr: c.destination || '',
      esm_class: c.esm_class || 0, short_message: Buffer.from(c.text || '', 'ascii')};
    if (c.receipted_message_id) opts.receipted_message_id = c.receipted_message_id;
    if (c.message_state) opts.message_state = c.message_state;
    toAll((s) => s.deliver_sm(opts));
    log({ev: 'deliver_raw_sent'});
  } else if (c.cmd === 'receipt') {
    // a well-formed receipt for any id, e.g. one this SMSC never issued (an orphan)
    const text = `id:${c.id} sub:001 dlvrd:001 submit date:2611221200 done date:2611221201 stat:${c.stat || 'DELIVRD'} err:000 text:x`;
    toAll((s) => s.deliver_sm({source_addr: c.source || '', destination_addr: c.destination || '',
      esm_class: 0x04, short_message: Buffer.from(text, 'ascii')}));
    log({ev: 'receipt_sent', id: String(c.id), rid: String(c.id)});
  } else if (c.cmd === 'enquire_link') {
    toAll((s) => s.enquire_link());
  } else if (c.cmd === 'unbind') {
    toAll((s) => s.unbind());
  } else if (c.cmd === 'sync') {
    // written after every event logged so far: the harness waits for it before reading
    log({ev: 'sync', token: c.token});
  }
});

server.listen(cfg.port, '127.0.0.1', function () {
  log({ev: 'listening', port: server.address().port});
});
