/**
 * The page's script, served as `/app.js`. Plain ES2020, no framework, no build step: it loads the
 * picture from `/api/svg`, and on a click fetches `/api/info/<bdf>` (the `info --json` document),
 * shows it and highlights the hot-reset scope (`resetDomain.affected`), the groups that must
 * be owned (`mustOwn.groups`) and the functions to bind to vfio-pci first (`mustOwn.bindToVfio`).
 * On a simulated host it posts `/api/reset/<bdf>` and shows the `reset --json` document's events.
 * Every server value reaches the page as text nodes, never as HTML.
 * @module
 */

export const APP_JS = String.raw`(function () {
  'use strict';
  var state = { host: null, selected: null, info: null };
  var byId = function (id) { return document.getElementById(id); };

  function h(tag, attrs) {
    var e = document.createElement(tag);
    var kids = Array.prototype.slice.call(arguments, 2);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    kids.forEach(function (k) {
      if (k === null || k === undefined) return;
      e.appendChild(typeof k === 'string' ? document.createTextNode(k) : k);
    });
    return e;
  }

  function showError(message) {
    var p = byId('error');
    p.textContent = message;
    p.hidden = !message;
  }

  function api(url, opts) {
    return fetch(url, opts).then(function (r) {
      return r.json().then(function (doc) {
        if (!r.ok || (doc && doc.ok === false && doc.error)) {
          var e = new Error(doc && doc.error ? doc.error.message : r.status + ' ' + r.statusText);
          e.doc = doc;
          throw e;
        }
        return doc;
      });
    });
  }

  function svg() { return byId('picture').querySelector('svg'); }

  /** The row showing a function: its own card, or the folded row that holds it. */
  function rowOf(bdf) {
    var s = svg();
    if (!s) return null;
    var own = s.querySelector('[data-bdf="' + bdf + '"]');
    if (own) return own;
    var runs = s.querySelectorAll('[data-bdfs]');
    for (var i = 0; i < runs.length; i++)
      if (runs[i].getAttribute('data-bdfs').split(' ').indexOf(bdf) >= 0) return runs[i];
    return null;
  }

  function clearHighlight() {
    var s = svg();
    if (!s) return;
    s.classList.remove('has-selection');
    ['hl-scope', 'hl-selected', 'hl-blocker', 'hl-owner', 'hl-domain'].forEach(function (c) {
      s.querySelectorAll('.' + c).forEach(function (e) { e.classList.remove(c); });
    });
  }

  function highlight(doc) {
    clearHighlight();
    var s = svg();
    if (!s) return;
    var f = doc.function;
    s.classList.add('has-selection');
    var hot = doc.resetDomain;
    var scope = hot ? hot.affected.map(function (a) { return a.bdf; }) : [f.bdf];
    scope.forEach(function (b) { var r = rowOf(b); if (r) r.classList.add('hl-scope'); });
    var me = rowOf(f.bdf);
    if (me) me.classList.add('hl-selected');
    if (doc.mustOwn) {
      doc.mustOwn.bindToVfio.forEach(function (a) {
        if (a.bdf === f.bdf) return;
        var r = rowOf(a.bdf);
        if (r) r.classList.add('hl-blocker');
      });
    }
    var groups = doc.mustOwn ? doc.mustOwn.groups : (f.iommuGroup === null ? [] : [f.iommuGroup]);
    groups.forEach(function (g) {
      s.querySelectorAll('.group-box[data-group="' + g + '"]').forEach(function (e) { e.classList.add('hl-owner'); });
    });
    if (hot) {
      s.querySelectorAll('.domain[data-domain="' + hot.id + '"]').forEach(function (e) { e.classList.add('hl-domain'); });
    }
    if (me && me.scrollIntoView) me.scrollIntoView({ block: 'nearest', inline: 'nearest' });
  }

  var SEVERITY_RANK = { blocker: 0, warning: 1, info: 2 };

  function ref(a) { return a.bdf + ' (group ' + (a.group === null ? 'none' : a.group) + ', ' + (a.driver || 'no driver') + ')'; }

  function renderInfo(doc) {
    var f = doc.function;
    var box = byId('info');
    box.textContent = '';
    box.appendChild(h('h2', null, f.bdf + ' ', h('small', null, f.className + (f.label ? ' · ' + f.label : ''))));
    var dl = h('dl');
    function row(k, v) { dl.appendChild(h('dt', null, k)); dl.appendChild(h('dd', null, v)); }
    row('kind', f.kind);
    row('driver', f.driver || 'none');
    row('IOMMU group', f.iommuGroup === null ? 'none'
      : f.iommuGroup + ' (' + f.iommuGroupSource + '): ' + doc.iommuGroupMembers.map(function (m) { return m.bdf + ' ' + (m.driver || 'no driver'); }).join(', '));
    if (f.slot) row('slot', f.slot.name + ' (' + f.slot.driver + ')');
    row('reset methods', (f.resetMethods.length ? f.resetMethods.join(' ') : '(none)') + ' [' + f.resetMethodsSource + ']');
    var fr = f.functionReset;
    row('function reset', fr.ok ? 'works now, by ' + fr.method + (fr.via ? ' (' + fr.via + ' path)' : '') : 'fails now with ' + (fr.errno || 'ENOTTY'));
    var hot = doc.resetDomain;
    row('hot reset', hot ? hot.kind + ' reset of ' + (hot.kind === 'slot' ? 'slot ' : 'bus ') + hot.target + ' below ' + hot.bridge + ': ' + hot.affected.length + ' function' + (hot.affected.length === 1 ? '' : 's') : 'not possible');
    box.appendChild(dl);
    if (hot) {
      var bind = (doc.mustOwn ? doc.mustOwn.bindToVfio : []).map(function (a) { return a.bdf; });
      var t = h('table', { class: 'scope', 'aria-label': 'functions a hot reset would hit' });
      hot.affected.forEach(function (a) {
        var tr = h('tr', bind.indexOf(a.bdf) >= 0 && a.bdf !== f.bdf ? { class: 'blocker' } : null,
          h('td', null, a.bdf), h('td', null, 'group ' + (a.group === null ? '-' : a.group)),
          h('td', null, a.driver || 'no driver'), h('td', null, a.bdf === f.bdf ? '(this function)' : ''));
        t.appendChild(tr);
      });
      box.appendChild(h('h2', null, 'A hot reset would hit'));
      box.appendChild(t);
    }
    if (doc.mustOwn) {
      var m = doc.mustOwn;
      var own = m.groups.length === 0 ? 'no groups' : 'group' + (m.groups.length === 1 ? ' ' : 's ') + m.groups.join(', ') + ' (group mode: one fd each)';
      var dl2 = h('dl');
      dl2.appendChild(h('dt', null, 'must own'));
      dl2.appendChild(h('dd', null, own));
      if (m.bindToVfio.length > 0) {
        dl2.appendChild(h('dt', null, 'bind first'));
        dl2.appendChild(h('dd', null, m.bindToVfio.map(function (a) { return a.bdf + ' to vfio-pci (now ' + (a.driver || 'no driver') + ')'; }).join(', ')));
      }
      box.appendChild(dl2);
      box.appendChild(h('p', { class: 'hint' },
        h('span', { class: 'swatch scope' }), 'hit by the hot reset  ',
        h('span', { class: 'swatch blocker' }), 'not on vfio-pci yet  ',
        h('span', { class: 'swatch owner' }), 'groups to own'));
    }
    // Its own problems and those of its reset domain that hold for its hot reset, worst first.
    var shown = f.problems.concat(doc.hotResetProblems)
      .sort(function (a, b) { return SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity]; });
    if (shown.length > 0) {
      box.appendChild(h('h2', null, 'Problems'));
      var ul = h('ul', { class: 'problems' });
      shown.forEach(function (p) { ul.appendChild(h('li', { class: 'sev-' + p.severity }, p.message)); });
      box.appendChild(ul);
    }
  }

  function renderRun(bdfs) {
    var box = byId('info');
    box.textContent = '';
    box.appendChild(h('h2', null, bdfs.length + ' folded functions'));
    box.appendChild(h('p', { class: 'hint' }, 'Alike functions (SR-IOV VFs, usually) folded into one row; untick "fold alike functions" to see each. Pick one:'));
    var div = h('div', { class: 'members' });
    bdfs.forEach(function (b) {
      var btn = h('button', { type: 'button', 'data-member': b }, b);
      btn.addEventListener('click', function () { select(b); });
      div.appendChild(btn);
    });
    box.appendChild(div);
  }

  function select(bdf) {
    showError('');
    return api('/api/info/' + encodeURIComponent(bdf)).then(function (doc) {
      state.selected = doc.function.bdf;
      state.info = doc;
      renderInfo(doc);
      highlight(doc);
      byId('actions').hidden = !(state.host && state.host.canReset);
      byId('reset').textContent = 'Reset ' + doc.function.bdf;
      byId('picture').setAttribute('data-selected', doc.function.bdf);
    }).catch(function (e) { showError(e.message); });
  }

  function loadPicture() {
    var fold = byId('fold').checked ? '1' : '0';
    return fetch('/api/svg?fold=' + fold).then(function (r) {
      if (!r.ok) return r.json().then(function (doc) { throw new Error(doc.error ? doc.error.message : r.statusText); });
      return r.text();
    }).then(function (text) {
      var parsed = new DOMParser().parseFromString(text, 'image/svg+xml');
      var pic = byId('picture');
      pic.textContent = '';
      pic.appendChild(document.importNode(parsed.documentElement, true));
      pic.setAttribute('aria-busy', 'false');
      if (state.info) highlight(state.info);
    }).catch(function (e) { showError('cannot load the picture: ' + e.message); });
  }

  function eventText(ev) {
    var e = ev.event;
    var t = '[' + (ev.atMs / 1000).toFixed(6).padStart(12) + '] ';
    switch (e.kind) {
      case 'log': return t + (e.device ? (e.driver || 'pci') + ' ' + e.device + ': ' : '') + e.text;
      case 'hot-remove': return t + 'hot-remove ' + e.device + ' (' + e.reason + ')';
      case 'hot-add': return t + 'hot-add ' + e.device;
      case 'function-reset': return t + 'function reset of ' + e.device + ' by ' + e.method + ': ' + e.result;
      case 'bus-reset': return t + 'secondary bus reset by ' + e.bridge + ' of ' + e.scope.join(', ') + ': ' + e.result;
      case 'slot-reset': return t + 'slot reset of slot ' + e.slot + ' (' + e.scope.join(', ') + '): ' + e.result;
      case 'bind': return t + 'bind ' + e.device + ' to ' + e.driver;
      case 'unbind': return t + 'unbind ' + e.device + ' from ' + e.driver;
      default: return t + JSON.stringify(e);
    }
  }

  function renderReset(doc) {
    var res = byId('result');
    res.textContent = '';
    var what = { 'function-reset': 'function reset', 'hot-reset': 'hot reset', 'pm-reset': 'PM reset (last resort)' };
    var head = doc.ok
      ? (what[doc.performed] || doc.performed) + ' of ' + doc.bdf + ' done in ' + doc.durationMs.toFixed(1) + ' ms (virtual time, ' + doc.mode + ' mode)'
      : 'reset of ' + doc.bdf + ' refused: ' + (doc.error ? doc.error.message : 'no reset method worked');
    res.appendChild(h('p', { class: doc.ok ? 'ok' : 'alert', id: 'reset-outcome' }, head));
    if (doc.error && !doc.ok)
      res.appendChild(h('p', { class: 'hint' }, 'code ' + doc.error.code + (doc.error.errno ? ', errno ' + doc.error.errno : '') + (doc.error.rule ? ' (kernel rule ' + doc.error.rule + ')' : '')));
    if (doc.steps && doc.steps.length) {
      var ul = h('ul');
      doc.steps.forEach(function (s) { ul.appendChild(h('li', null, 'QEMU policy: ' + s.action + ' ' + s.outcome + ' — ' + s.why + (s.error ? ': ' + s.error : ''))); });
      res.appendChild(ul);
    }
    if (doc.affected && doc.affected.length)
      res.appendChild(h('p', null, 'affected: ' + doc.affected.map(ref).join(', ')));
    var list = byId('events');
    list.textContent = '';
    var removed = [];
    doc.events.forEach(function (ev) {
      var k = ev.event.kind;
      if (k === 'hot-remove') removed.push(ev.event.device);
      var cls = k === 'hot-remove' || k === 'hot-add' ? 'ev-hotplug' : /reset$/.test(k) ? 'ev-reset' : null;
      list.appendChild(h('li', cls ? { class: cls, 'data-kind': k } : { 'data-kind': k }, eventText(ev)));
    });
    if (doc.events.length === 0) list.appendChild(h('li', { class: 'hint' }, '(nothing logged)'));
    var note = byId('hotplug-note');
    note.hidden = removed.length === 0;
    note.textContent = removed.length === 0 ? '' : 'Spurious hot-remove: pciehp saw the link drop of a plain secondary bus reset and removed '
      + removed.filter(function (b, i) { return removed.indexOf(b) === i; }).join(', ')
      + ' (kernel-semantics PH1). A VMM holding the device would see it vanish; a slot reset through pciehp\'s reset_slot masks this.';
    byId('log').hidden = false;
  }

  function runReset() {
    if (!state.selected) return;
    var btn = byId('reset');
    btn.disabled = true;
    showError('');
    api('/api/reset/' + encodeURIComponent(state.selected), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ method: byId('method').value })
    }).then(function (doc) {
      renderReset(doc);
      return loadPicture().then(function () { return select(state.selected); });
    }).catch(function (e) { showError(e.message); }).then(function () { btn.disabled = false; });
  }

  function start() {
    api('/api/host').then(function (doc) {
      state.host = doc;
      byId('host').textContent = doc.host + ' · ' + doc.origin + ' · rules of Linux ' + doc.era;
      var mode = byId('mode');
      mode.textContent = doc.simulated ? 'simulated kernel' : 'real host: read only';
      if (!doc.simulated) mode.classList.add('real');
    }).catch(function (e) { showError(e.message); });
    loadPicture().then(function () {
      var want = decodeURIComponent(location.hash.slice(1));
      if (want) select(want);
    });
    byId('picture').addEventListener('click', function (e) {
      var g = e.target.closest ? e.target.closest('.fn') : null;
      if (!g) return;
      if (g.hasAttribute('data-bdf')) {
        select(g.getAttribute('data-bdf'));
        history.replaceState(null, '', '#' + g.getAttribute('data-bdf'));
      } else if (g.hasAttribute('data-bdfs')) renderRun(g.getAttribute('data-bdfs').split(' '));
    });
    byId('fold').addEventListener('change', loadPicture);
    byId('reset').addEventListener('click', runReset);
    byId('find').addEventListener('submit', function (e) {
      e.preventDefault();
      var v = byId('find-bdf').value.trim();
      if (v) select(v);
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
`;
