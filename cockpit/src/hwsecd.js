/* hwsecd Cockpit page: follows org.hwsecd1 with one GetManagedObjects() plus the ObjectManager
 * and PropertiesChanged signals (no polling), and offers the few actions an operator takes. */
/* global cockpit */

const BUS_NAME = 'org.hwsecd1';
const ROOT = '/org/hwsecd1';
const MANAGER = 'org.hwsecd1.Manager';
const PSP = 'org.hwsecd1.Psp';
const ASID = 'org.hwsecd1.Asid';
const FIRMWARE = 'org.hwsecd1.Firmware';
const JOB = 'org.hwsecd1.FirmwareJob';
const PCI = 'org.hwsecd1.Pci';
const PCIDEV = 'org.hwsecd1.PciDevice';
const ACTIONS = {
    policy: 'org.hwsecd1.set-asid-policy',
    schedule: 'org.hwsecd1.schedule-firmware-update',
    cancel: 'org.hwsecd1.cancel-firmware-update',
};
const TREE_CHUNK = 100;

/* ---- state ---- */
let client = null;
let objects = {};            // path -> { iface -> { prop -> plain value } }
let checks = [];
let history = [];
let can = {};                // action -> "yes" | "no" | "challenge"
let section = 'overview';
let dirty = new Set();
let renderQueued = false;
let busWatch = null;
const ui = {
    expanded: new Set(), expandedInit: false, shown: {}, selected: null, assign: null,
    dryRun: null, policyForm: { mode: 'number', count: '', allowUnusable: false },
    alerts: {}, firmwareName: '',
};
window.hwsecdTimings = {};

/* ---- helpers ---- */
function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
        if (v === null || v === undefined || v === false)
            continue;
        if (k.startsWith('on'))
            el.addEventListener(k.slice(2), v);
        else if (k === 'class')
            el.className = v;
        else if (k === 'style')
            Object.assign(el.style, v);
        else
            el.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat(Infinity)) {
        if (c === null || c === undefined || c === false)
            continue;
        el.append(c instanceof Node ? c : String(c));
    }
    return el;
}

/* cockpit delivers variants as {t, v}; unwrap them recursively. */
function unv(x) {
    if (Array.isArray(x))
        return x.map(unv);
    if (x && typeof x === 'object') {
        if (typeof x.t === 'string' && 'v' in x && Object.keys(x).length === 2)
            return unv(x.v);
        const o = {};
        for (const [k, v] of Object.entries(x))
            o[k] = unv(v);
        return o;
    }
    return x;
}

function props(path, iface) {
    return (objects[path] && objects[path][iface]) || null;
}

function label(text, color, attrs) {
    return h('span', Object.assign({ class: 'pf-v5-c-label pf-m-compact' + (color ? ' pf-m-' + color : '') }, attrs || {}),
             h('span', { class: 'pf-v5-c-label__content' }, text));
}

const RESULT_COLOR = { pass: 'green', fail: 'red', unknown: 'orange', skip: 'grey', 'not-applicable': 'grey' };
const RESULT_ORDER = { fail: 0, unknown: 1, skip: 2, pass: 3, 'not-applicable': 4 };
const VERDICT_COLOR = { isolated: 'green', shared: 'blue', unsafe: 'red', 'no-iommu': 'red', unknown: 'orange' };
const JOB_COLOR = { scheduled: 'blue', running: 'purple', succeeded: 'green', failed: 'red', cancelled: 'grey', expired: 'orange', interrupted: 'orange' };

function card(title, body, attrs) {
    return h('div', Object.assign({ class: 'pf-v5-c-card' }, attrs || {}),
             h('div', { class: 'pf-v5-c-card__title' }, h('h2', { class: 'pf-v5-c-card__title-text' }, title)),
             h('div', { class: 'pf-v5-c-card__body' }, body));
}

function dl(rows, attrs) {
    return h('dl', Object.assign({ class: 'pf-v5-c-description-list pf-m-horizontal pf-m-compact' }, attrs || {}),
             rows.filter(Boolean).map(([term, value, id]) =>
                 h('div', { class: 'pf-v5-c-description-list__group' },
                   h('dt', { class: 'pf-v5-c-description-list__term' }, h('span', { class: 'pf-v5-c-description-list__text' }, term)),
                   h('dd', { class: 'pf-v5-c-description-list__description' },
                     h('div', { class: 'pf-v5-c-description-list__text', id: id || null }, value)))));
}

function alert(variant, title, body, attrs) {
    return h('div', Object.assign({ class: 'pf-v5-c-alert pf-m-inline pf-m-' + variant }, attrs || {}),
             h('p', { class: 'pf-v5-c-alert__title' }, title),
             body ? h('div', { class: 'pf-v5-c-alert__description' }, body) : null);
}

function table(headers, rows, attrs) {
    return h('table', Object.assign({ class: 'pf-v5-c-table pf-m-compact pf-m-grid-md', role: 'grid' }, attrs || {}),
             h('thead', { class: 'pf-v5-c-table__thead' },
               h('tr', { class: 'pf-v5-c-table__tr' }, headers.map(t => h('th', { class: 'pf-v5-c-table__th', scope: 'col' }, t)))),
             h('tbody', { class: 'pf-v5-c-table__tbody' }, rows));
}

function tr(cells, attrs) {
    return h('tr', Object.assign({ class: 'pf-v5-c-table__tr' }, attrs || {}),
             cells.map(c => h('td', { class: 'pf-v5-c-table__td' }, c)));
}

function yesno(b) {
    return b ? 'yes' : 'no';
}

function when(usec) {
    if (!usec)
        return '—';
    return new Date(usec / 1000).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

function errorText(err) {
    if (!err)
        return 'unknown error';
    const name = err.name || err.problem || '';
    return (name ? name + ': ' : '') + (err.message || String(err));
}

/* A button that is disabled with a tooltip when Manager.CanDo() says "no". The tooltip sits on
 * a wrapper because a disabled button gets no pointer events. */
function actionButton(text, action, onclick, attrs, extraDisabledReason) {
    const answer = can[action];
    let reason = null;
    if (extraDisabledReason)
        reason = extraDisabledReason;
    else if (answer === 'no')
        reason = `You are not allowed to do this (polkit action ${action}).`;
    else if (answer === undefined)
        reason = 'Checking permission…';
    const variant = (attrs && attrs.variant) || 'secondary';
    const btn = h('button', {
        class: 'pf-v5-c-button pf-m-' + variant + (reason ? ' pf-m-aria-disabled' : ''),
        type: 'button', id: attrs && attrs.id, disabled: !!reason, 'data-action': action, onclick,
    }, text);
    return h('span', {
        class: 'hw-action', title: reason || (answer === 'challenge' ? 'You will be asked to authenticate.' : null),
        'data-disabled-reason': reason,
    }, btn);
}

/* ---- connection ---- */
function connect() {
    if (client)
        return;
    const c = cockpit.dbus(BUS_NAME, { bus: 'system', superuser: 'try', track: true });
    client = c;
    objects = {};
    c.addEventListener('close', (ev, options) => {
        if (client !== c)
            return;
        client = null;
        showNotRunning(options && options.problem);
    });
    c.subscribe({ path_namespace: ROOT }, onSignal);
    /* The ObjectManager lists the objects below /org/hwsecd1; the Manager itself is on it. */
    Promise.all([c.call(ROOT, 'org.freedesktop.DBus.ObjectManager', 'GetManagedObjects', []),
                 c.call(ROOT, 'org.freedesktop.DBus.Properties', 'GetAll', [MANAGER]),
                 refreshChecks()])
        .then(([[result], [manager]]) => {
            if (client !== c)
                return;
            for (const [path, ifaces] of Object.entries(result))
                objects[path] = unv(ifaces);
            objects[ROOT] = Object.assign(objects[ROOT] || {}, { [MANAGER]: unv(manager) });
            document.getElementById('not-running').hidden = true;
            document.getElementById('sections').hidden = false;
            document.getElementById('tabs').hidden = false;
            stopWatching();
            refreshHistory();
            refreshCan();
            markAll();
        })
        .catch(err => {
            if (client === c && err.problem !== 'not-found')
                showProblem(errorText(err));
        });
}

function onSignal(path, iface, signal, args) {
    if (iface === 'org.freedesktop.DBus.Properties' && signal === 'PropertiesChanged') {
        const [name, changed, invalidated] = args;
        if (!objects[path])
            objects[path] = {};
        objects[path][name] = Object.assign(objects[path][name] || {}, unv(changed));
        (invalidated || []).forEach(prop => refetch(path, name, prop));
        if (name === MANAGER && 'CheckSummary' in changed)
            refreshChecks();
        if (name === JOB && 'State' in changed)
            refreshHistory();
        markIface(name);
    } else if (iface === 'org.freedesktop.DBus.ObjectManager' && signal === 'InterfacesAdded') {
        const [p, ifaces] = args;
        objects[p] = Object.assign(objects[p] || {}, unv(ifaces));
        Object.keys(ifaces).forEach(markIface);
    } else if (iface === 'org.freedesktop.DBus.ObjectManager' && signal === 'InterfacesRemoved') {
        const [p, names] = args;
        if (objects[p]) {
            names.forEach(n => delete objects[p][n]);
            if (Object.keys(objects[p]).length === 0)
                delete objects[p];
        }
        names.forEach(markIface);
    }
}

/* Host-wide tables (the PCI device and group lists) are announced by name only
 * (EmitsChangedSignal=invalidates): fetch the new value, one call in flight per property. */
const refetching = {};
function refetch(path, name, prop) {
    const key = `${path} ${name} ${prop}`;
    const c = client;
    if (!c)
        return;
    if (refetching[key]) {
        refetching[key].again = true;
        return;
    }
    refetching[key] = { again: false };
    c.call(path, 'org.freedesktop.DBus.Properties', 'Get', [name, prop])
        .then(([value]) => {
            if (client !== c)
                return;
            if (!objects[path])
                objects[path] = {};
            objects[path][name] = Object.assign(objects[path][name] || {}, unv({ [prop]: value }));
            markIface(name);
        })
        .catch(err => console.warn(`Get ${prop} failed:`, errorText(err)))
        .finally(() => {
            const again = refetching[key].again;
            delete refetching[key];
            if (again)
                refetch(path, name, prop);
        });
}

function refreshChecks() {
    const c = client;
    return c && c.call(ROOT, MANAGER, 'GetChecks', []).then(([list]) => {
        if (client !== c)
            return;
        checks = list.map(([id, category, result, title, detail, hint]) => ({ id, category, result, title, detail, hint }));
        mark('overview');
    }).catch(err => console.warn('GetChecks failed:', errorText(err)));
}

function refreshHistory() {
    const c = client;
    c && c.call(ROOT + '/firmware', FIRMWARE, 'History', []).then(([list]) => {
        if (client !== c)
            return;
        history = unv(list).map(([id, payload, sha256, state, created, started, finished, result, before, after]) =>
            ({ id, payload, sha256, state, created, started, finished, result, before, after }));
        mark('firmware');
    }).catch(err => console.warn('History failed:', errorText(err)));
}

function refreshCan() {
    const c = client;
    if (!c)
        return;
    for (const action of Object.values(ACTIONS)) {
        c.call(ROOT, MANAGER, 'CanDo', [action]).then(([answer]) => {
            if (client !== c)
                return;
            can[action] = answer;
            markAll();
        }).catch(() => {
            can[action] = 'no';
            markAll();
        });
    }
}

function showProblem(text) {
    document.getElementById('not-running-detail').textContent = text;
    document.getElementById('not-running').hidden = false;
    document.getElementById('sections').hidden = true;
    document.getElementById('tabs').hidden = true;
}

function showNotRunning(problem) {
    can = {};
    checks = [];
    history = [];
    objects = {};
    setHeaderState('not running', 'red');
    document.getElementById('daemon-version').textContent = '';
    showProblem(problem && problem !== 'not-found' && problem !== 'disconnected'
        ? `The connection to hwsecd closed: ${problem}.`
        : 'The hardware security daemon (org.hwsecd1) is not on the system bus.');
    watchForDaemon();
}

/* The closed client never comes back: watch the bus for org.hwsecd1 to get an owner, then make
 * a new one. A slow check of NameHasOwner() backs the signal up (a start that raced with the
 * subscription, or a new client that closed again while hwsecd was still coming up); it runs
 * only while hwsecd is away. */
function watchForDaemon() {
    if (!busWatch) {
        const bus = cockpit.dbus('org.freedesktop.DBus', { bus: 'system' });
        const sub = bus.subscribe({ path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus', member: 'NameOwnerChanged' },
                                  (path, iface, signal, [name, , owner]) => {
                                      if (name === BUS_NAME && owner)
                                          connect();
                                  });
        const timer = window.setInterval(checkOwner, 5000);
        busWatch = { bus, sub, timer };
    }
    checkOwner();
}

function checkOwner() {
    if (!busWatch || client)
        return;
    busWatch.bus.call('/org/freedesktop/DBus', 'org.freedesktop.DBus', 'NameHasOwner', [BUS_NAME])
        .then(([has]) => { if (has) connect(); })
        .catch(() => {});
}

function stopWatching() {
    if (!busWatch)
        return;
    window.clearInterval(busWatch.timer);
    busWatch.sub.remove();
    busWatch.bus.close();
    busWatch = null;
}

/* ---- rendering, coalesced per animation frame ---- */
const IFACE_SECTIONS = {
    [MANAGER]: ['overview', 'header'], [PSP]: ['snp', 'overview'], [ASID]: ['asids', 'overview'],
    [FIRMWARE]: ['firmware'], [JOB]: ['firmware'], [PCI]: ['pci', 'overview'], [PCIDEV]: ['pci'],
};

function markIface(iface) {
    (IFACE_SECTIONS[iface] || []).forEach(mark);
}

function markAll() {
    ['header', 'overview', 'snp', 'asids', 'firmware', 'pci'].forEach(mark);
}

function mark(what) {
    dirty.add(what);
    if (!renderQueued) {
        renderQueued = true;
        requestAnimationFrame(render);
    }
}

const RENDERERS = {
    overview: renderOverview, snp: renderSnp, asids: renderAsids, firmware: renderFirmware, pci: renderPci,
};

function render() {
    renderQueued = false;
    if (dirty.has('header'))
        renderHeader();
    /* Only the visible section is built; the others are rebuilt when shown. */
    if (dirty.has(section) && props(ROOT, MANAGER)) {
        const el = document.getElementById('section-' + section);
        el.replaceChildren(...RENDERERS[section]());
        dirty.delete(section);
        if (section === 'overview' && checks.length && !window.hwsecdTimings.overview)
            window.hwsecdTimings.overview = performance.now();
    }
    dirty.delete('header');
}

function setHeaderState(text, color) {
    const el = document.getElementById('daemon-state');
    el.className = 'pf-v5-c-label' + (color ? ' pf-m-' + color : '');
    el.firstChild.textContent = text;
}

function renderHeader() {
    const m = props(ROOT, MANAGER);
    if (!m)
        return;
    setHeaderState('hwsecd ' + m.State, { ready: 'green', degraded: 'orange', starting: 'blue' }[m.State] || 'grey');
    document.getElementById('daemon-version').textContent = 'version ' + m.Version;
}

function showSection(name) {
    section = name;
    for (const li of document.querySelectorAll('#tabs .pf-v5-c-tabs__item'))
        li.classList.toggle('pf-m-current', li.dataset.section === name);
    for (const el of document.querySelectorAll('.hw-section'))
        el.hidden = el.id !== 'section-' + name;
    mark(name);
}

/* ---- Overview ---- */
const CATEGORY_NAMES = { cpu: 'CPU', bios: 'BIOS', iommu: 'IOMMU', kernel: 'Kernel', platform: 'Platform', features: 'Features', firmware: 'Firmware' };

function glance() {
    const p = props(ROOT + '/psp', PSP);
    const a = props(ROOT + '/asid', ASID);
    const f = props(ROOT + '/firmware', FIRMWARE);
    const pci = props(ROOT + '/pci', PCI);
    const tile = (title, value, color, id, sub) => h('div', { class: 'hw-tile', id },
                                                    h('div', { class: 'hw-tile-title' }, title),
                                                    h('div', { class: 'hw-tile-value' }, label(value, color)),
                                                    sub ? h('div', { class: 'hw-muted' }, sub) : null);
    const snpPool = a && a.Pools.find(x => x[0] === 'snp');
    const jobs = f ? (f.Jobs || []).map(x => props(x, JOB)).filter(j => j && (j.State === 'scheduled' || j.State === 'running')) : [];
    const unsafe = pci ? (pci.Summary || {}).unsafe || 0 : 0;
    return h('div', { class: 'hw-tiles', id: 'glance' },
             tile('SEV-SNP', p && p.SnpStatusValid ? `SNP ${p.SnpState}` : 'unknown', p && p.SnpState === 'init' ? 'green' : 'orange', 'glance-snp',
                  p && p.SnpStatusValid ? `API ${p.SnpApiVersion} build ${p.SnpBuild}, TCB ${p.TcbCommitted ? 'committed' : 'not committed'}` : null),
             tile('SNP ASIDs', snpPool ? `${snpPool[6] < 0 ? '?' : snpPool[6]} of ${snpPool[4]} free` : 'unknown',
                  snpPool && snpPool[4] > 0 ? 'green' : 'orange', 'glance-asids',
                  a && a.PendingReload ? 'reload kvm_amd pending' : null),
             tile('Firmware', f ? (f.SfsPresent ? (jobs.length ? `${jobs.length} job${jobs.length > 1 ? 's' : ''} pending` : 'no update pending') : 'no SFS') : 'unknown',
                  f && f.SfsPresent ? (jobs.length ? 'blue' : 'green') : 'grey', 'glance-firmware'),
             tile('PCIe isolation', pci ? (unsafe ? `${unsafe} unsafe device${unsafe > 1 ? 's' : ''}` : 'no unsafe device') : 'unknown',
                  unsafe ? 'red' : 'green', 'glance-pci', pci ? `IOMMU ${pci.Iommu}, ${(pci.Summary || {}).devices || 0} devices` : null));
}
function renderOverview() {
    const m = props(ROOT, MANAGER);
    const out = [];
    const problems = (m.Problems || []).slice();
    const asid = props(ROOT + '/asid', ASID);
    if (asid)
        problems.push(...asid.Problems.map(p => 'ASIDs: ' + p));
    const pci = props(ROOT + '/pci', PCI);
    if (pci)
        problems.push(...pci.HostFindings.map(([id, severity, msg]) => `PCIe (${severity}): ${msg}`));
    if (problems.length)
        out.push(alert('warning', `hwsecd reports ${problems.length} problem${problems.length > 1 ? 's' : ''}`,
                       h('ul', { class: 'hw-list', id: 'problems' }, problems.map(p => h('li', {}, p)))));

    const summary = m.CheckSummary || {};
    out.push(glance());
    out.push(card('Readiness checks', [
        h('div', { class: 'hw-summary', id: 'check-summary' },
          ['fail', 'unknown', 'pass', 'skip', 'not-applicable'].filter(r => summary[r]).map(r =>
              label(`${summary[r]} ${r}`, RESULT_COLOR[r], { 'data-result': r })),
          summary.fail || summary.unknown ? null : h('span', { class: 'hw-muted' }, 'Every readiness check passes.')),
    ]));

    const byCat = {};
    for (const c of checks)
        (byCat[c.category] = byCat[c.category] || []).push(c);
    const worst = list => Math.min(...list.map(c => RESULT_ORDER[c.result] ?? 9));
    const cats = Object.keys(byCat).sort((a, b) => worst(byCat[a]) - worst(byCat[b]) || a.localeCompare(b));
    for (const cat of cats) {
        const list = byCat[cat].sort((a, b) => (RESULT_ORDER[a.result] ?? 9) - (RESULT_ORDER[b.result] ?? 9));
        out.push(card(CATEGORY_NAMES[cat] || cat[0].toUpperCase() + cat.slice(1),
                      table(['Result', 'Check', 'Detail', 'How to fix'], list.map(c =>
                          tr([label(c.result, RESULT_COLOR[c.result]), c.title, c.detail, c.hint ? h('span', { class: 'hw-hint' }, c.hint) : '—'],
                             { 'data-check': c.id, class: 'pf-v5-c-table__tr' + (c.result === 'fail' ? ' hw-check-fail' : '') })), { class: 'pf-v5-c-table pf-m-compact hw-checks' }),
                      { 'data-category': cat }));
    }
    return out;
}

/* ---- SEV-SNP ---- */
const TCB_PARTS = ['boot_loader', 'tee', 'snp', 'microcode', 'fmc'];

function renderSnp() {
    const p = props(ROOT + '/psp', PSP);
    if (!p)
        return [alert('info', 'No PSP information from hwsecd.')];
    const attrs = p.Attributes || {};
    const psp = card('Platform Security Processor', dl([
        ['Present', p.Present ? label('present', 'green') : label('absent', 'red'), 'psp-present'],
        p.Present && ['PCI device', `${p.PciAddress} (device ${p.PciDeviceId.toString(16).padStart(4, '0')}, driver ${p.Driver || 'none'})`],
        ['/dev/sev', yesno(p.SevDevice)],
        ['/dev/sfs', yesno(p.SfsDevice)],
        ['CPU', `family ${p.CpuFamily.toString(16)}h, model ${p.CpuModel.toString(16)}h`],
        ...Object.entries(attrs).map(([k, v]) => [k.replace(/_/g, ' '), typeof v === 'boolean' ? yesno(v) : String(v)]),
    ]));
    const sev = card('SEV platform', dl([
        ['State', p.SevStatusValid ? p.SevState : label('unreadable', 'orange'), 'sev-state'],
        ['API', p.SevStatusValid ? `${p.ApiVersion} build ${p.Build}` : '—', 'sev-api'],
        ['SEV-ES configured', yesno(p.SevConfigEs)],
        ['Guests', p.SevGuestCount],
        p.SevStatusError && ['Error', p.SevStatusError],
    ]));
    const snp = card('SEV-SNP platform', dl([
        ['State', p.SnpStatusValid ? p.SnpState : label('unreadable', 'orange'), 'snp-state'],
        ['API', p.SnpStatusValid ? `${p.SnpApiVersion} build ${p.SnpBuild}` : '—', 'snp-api'],
        ['RMP initialized', yesno(p.RmpInitialized)],
        ['Guests', p.SnpGuestCount],
        ['VLEK loaded', yesno(p.VlekLoaded)],
        ['Ciphertext hiding', `${p.CiphertextHidingCapable ? 'capable' : 'not capable'}, ${p.CiphertextHidingEnabled ? 'enabled' : 'not enabled'}`, 'cth-state'],
        p.SnpStatusError && ['Error', p.SnpStatusError],
        p.LastError && ['Last error', `${p.LastError}: ${p.LastErrorMessage}`],
    ]));
    const cur = p.CurrentTcbParts || {};
    const rep = p.ReportedTcbParts || {};
    const parts = TCB_PARTS.filter(k => k in cur || k in rep).concat(Object.keys(cur).filter(k => !TCB_PARTS.includes(k)));
    const tcb = card('TCB', [
        h('p', {}, 'Layout: ', p.TcbLayout || 'unknown', ' · ',
          p.TcbCommitted
              ? label('committed', 'green', { id: 'tcb-committed' })
              : label('not committed: the reported TCB is older than the current one (SNP_COMMIT pending)', 'orange', { id: 'tcb-committed' })),
        table(['Component', 'Current', 'Reported', ''], parts.map(k =>
            tr([k.replace(/_/g, ' '), cur[k] ?? '—', rep[k] ?? '—', cur[k] === rep[k] ? '' : label('differs', 'orange')],
               { 'data-tcb': k })), { id: 'tcb-table' }),
    ]);
    return [h('div', { class: 'hw-grid' }, psp, sev, snp, tcb)];
}

/* ---- ASIDs ---- */
function poolBars(pools, maxAsid, idPrefix) {
    const scale = Math.max(maxAsid, ...pools.map(p => p[3]), 1);
    const pct = n => (100 * n / scale).toFixed(3) + '%';
    return h('div', { class: 'hw-pools' },
             pools.map(([name, state, first, last, capacity, used, free, note]) => {
                 const usable = state !== 'unusable' && capacity > 0;
                 const u = used < 0 ? null : used;
                 const f = free < 0 ? null : free;
                 return h('div', { class: 'hw-pool', id: `${idPrefix}-${name}`, 'data-pool': name, title: note },
                          h('div', { class: 'hw-pool-head' },
                            h('span', {}, h('span', { class: 'hw-pool-name' }, { sev: 'SEV', 'sev-es': 'SEV-ES', snp: 'SEV-SNP' }[name] || name),
                              ' ', label(state, state === 'enabled' ? 'green' : state === 'unusable' ? 'red' : 'grey')),
                            h('span', { class: 'hw-pool-figures' },
                              usable ? `ASIDs ${first}–${last} · ${capacity} total · ${u ?? '?'} used · ${f ?? '?'} free` : 'no ASIDs')),
                          h('div', { class: 'hw-bar' },
                            usable ? h('div', { class: 'hw-bar-range', style: { left: pct(first - 1), width: pct(capacity) } }) : h('div', { class: 'hw-bar-unusable' }),
                            usable && u ? h('div', { class: 'hw-bar-used', style: { left: pct(first - 1), width: pct(u) } }) : null));
             }),
             h('div', { class: 'hw-scale' }, h('span', {}, '1'), h('span', {}, `ASID ${scale}`)),
             h('div', { class: 'hw-legend' },
               h('span', {}, h('span', { class: 'hw-swatch hw-swatch-free' }), 'free'),
               h('span', {}, h('span', { class: 'hw-swatch hw-swatch-used' }), 'used'),
               h('span', {}, h('span', { class: 'hw-swatch hw-swatch-unusable' }), 'unusable')));
}

function policyFromForm() {
    const f = ui.policyForm;
    const pol = {};
    const a = props(ROOT + '/asid', ASID);
    /* keep what the saved policy says besides ciphertext hiding (quotas) */
    if (a && a.Policy && a.Policy.quotas)
        pol.quotas = rewrapQuotas(a.Policy.quotas);
    if (f.mode === 'off')
        pol.ciphertext_hiding = { t: 's', v: 'off' };
    else if (f.mode === 'all-snp')
        pol.ciphertext_hiding = { t: 's', v: 'all-snp' };
    else {
        const n = Number(f.count);
        if (!/^\d+$/.test(String(f.count).trim()) || n > 4294967295)
            throw new Error('Enter the number of ASIDs for SEV-SNP (a whole number), or choose "off" or "all".');
        pol.ciphertext_hiding = { t: 'u', v: n };
    }
    if (f.allowUnusable)
        pol.allow_sev_es_unusable = { t: 'b', v: true };
    return pol;
}

function rewrapQuotas(quotas) {
    const out = {};
    for (const [cg, q] of Object.entries(quotas)) {
        const inner = {};
        for (const [k, v] of Object.entries(q))
            inner[k] = typeof v === 'string' ? { t: 's', v } : { t: 'u', v };
        out[cg] = { t: 'a{sv}', v: inner };
    }
    return { t: 'a{sv}', v: out };
}

function setAlert(key, variant, title, body) {
    ui.alerts[key] = variant ? { variant, title, body } : null;
}

function showAlert(key, id) {
    const a = ui.alerts[key];
    return a ? alert(a.variant, a.title, a.body, { id }) : null;
}

function dryRun() {
    let pol;
    try {
        pol = policyFromForm();
    } catch (e) {
        setAlert('policy', 'danger', e.message);
        mark('asids');
        return;
    }
    setAlert('policy', null);
    client.call(ROOT + '/asid', ASID, 'ValidatePolicy', [pol]).then(([pools, cth, problems, explanation]) => {
        ui.dryRun = { form: JSON.stringify(ui.policyForm), pools, cth, problems, explanation };
        mark('asids');
    }).catch(err => {
        ui.dryRun = null;
        setAlert('policy', 'danger', 'The dry run was refused', errorText(err));
        mark('asids');
    });
}

function applyPolicy() {
    let pol;
    try {
        pol = policyFromForm();
    } catch (e) {
        setAlert('policy', 'danger', e.message);
        mark('asids');
        return;
    }
    client.call(ROOT + '/asid', ASID, 'SetPolicy', [pol]).then(([warnings]) => {
        setAlert('policy', 'warning', 'Policy saved. It takes effect only when kvm_amd is reloaded (or the host reboots).',
                 warnings.length ? h('ul', {}, warnings.map(([sev, code, msg]) => h('li', {}, `${sev} (${code}): ${msg}`))) : null);
        ui.dryRun = null;
        mark('asids');
    }).catch(err => {
        setAlert('policy', 'danger', refusalTitle(err, 'The policy was not applied'), errorText(err));
        refreshCan();
        mark('asids');
    });
}

function refusalTitle(err, fallback) {
    if (err && /AccessDenied|InteractiveAuthorizationRequired/.test(err.name || ''))
        return 'Not authorized: polkit refused this action';
    return fallback;
}

function renderAsids() {
    const a = props(ROOT + '/asid', ASID);
    if (!a)
        return [alert('info', 'No ASID information from hwsecd.')];
    const out = [];
    if (!a.KvmAmdLoaded)
        out.push(alert('warning', 'kvm_amd is not loaded: the pools are what it would set up.'));
    if (a.Problems.length)
        out.push(alert('warning', 'Problems', h('ul', {}, a.Problems.map(p => h('li', {}, p)))));
    out.push(card('Pools', [
        poolBars(a.Pools, a.MaxAsid, 'pool'),
        h('ul', { class: 'hw-list', id: 'asid-explanation' }, a.Explanation.map(s => h('li', {}, s))),
    ]));
    const configured = a.ConfiguredCiphertextHidingAsids < 0 ? 'not managed by hwsecd' : String(a.ConfiguredCiphertextHidingAsids);
    out.push(card('Ciphertext hiding', [
        dl([
            ['Supported', a.CiphertextHidingSupported],
            ['Effective (kvm_amd now)', a.EffectiveCiphertextHidingAsids ? `${a.EffectiveCiphertextHidingAsids} SNP ASIDs` : 'off', 'cth-effective'],
            ['Configured (next kvm_amd load)', configured, 'cth-configured'],
            ['Reload pending', a.PendingReload ? label('reload kvm_amd pending', 'orange', { id: 'reload-pending' }) : label('no', 'green', { id: 'reload-pending' })],
            a.Conflicts.length && ['Other settings', a.Conflicts.map(([src, val]) => `${src}: ${val}`).join('; ')],
        ]),
    ]));
    out.push(card('Change the ciphertext-hiding policy', policyForm(a)));
    return out;
}

/* Typing must not rebuild the section (that would take the focus, or swallow a click on "Dry
 * run" that blurs the field): a dry run of other values is dropped in place. */
function countChanged(value) {
    const f = ui.policyForm;
    f.count = value;
    f.mode = 'number';
    const radio = document.getElementById('cth-mode-number');
    if (radio)
        radio.checked = true;
    if (ui.dryRun && ui.dryRun.form !== JSON.stringify(f)) {
        ui.dryRun = null;
        const dr = document.getElementById('dry-run');
        if (dr)
            dr.remove();
        const apply = document.getElementById('cth-apply');
        if (apply) {
            apply.disabled = true;
            apply.classList.add('pf-m-aria-disabled');
            apply.parentElement.title = 'Run a dry run of this policy first.';
        }
    }
}

function policyForm(a) {
    const f = ui.policyForm;
    const stale = ui.dryRun && ui.dryRun.form !== JSON.stringify(f);
    const dr = stale ? null : ui.dryRun;
    const errors = dr ? dr.problems.filter(p => p[0] === 'error') : [];
    const radio = (mode, text) => h('label', { class: 'pf-v5-c-radio' },
                                    h('input', { class: 'pf-v5-c-radio__input', type: 'radio', name: 'cth-mode', value: mode, checked: f.mode === mode,
                                                 id: 'cth-mode-' + mode, onchange: () => { f.mode = mode; mark('asids'); } }),
                                    h('span', { class: 'pf-v5-c-radio__label' }, text));
    const countInput = h('span', { class: 'pf-v5-c-form-control' },
                         h('input', { type: 'text', inputmode: 'numeric', id: 'cth-count', value: f.count, placeholder: `1–${Math.max(a.MinSevAsid - 1, 1)}`,
                                      'aria-label': 'SEV-SNP ASIDs', oninput: e => countChanged(e.target.value) }));
    return h('div', { class: 'hw-policy' },
             h('div', { class: 'hw-inline' }, radio('number', 'SEV-SNP ASIDs:'), countInput),
             h('div', { class: 'hw-inline' }, radio('all-snp', `All joint ASIDs (${Math.max(a.MinSevAsid - 1, 0)}) to SEV-SNP`), radio('off', 'Off')),
             h('label', { class: 'pf-v5-c-check' },
               h('input', { class: 'pf-v5-c-check__input', type: 'checkbox', id: 'cth-allow-unusable', checked: f.allowUnusable,
                            onchange: e => { f.allowUnusable = e.target.checked; mark('asids'); } }),
               h('span', { class: 'pf-v5-c-check__label' }, 'Allow leaving SEV-ES without ASIDs')),
             h('div', { class: 'hw-actions' },
               h('button', { class: 'pf-v5-c-button pf-m-secondary', type: 'button', id: 'cth-dry-run', onclick: dryRun }, 'Dry run'),
               actionButton('Apply', ACTIONS.policy, applyPolicy, { id: 'cth-apply', variant: 'primary' },
                            !dr ? 'Run a dry run of this policy first.' : errors.length ? 'The dry run found errors.' : null),
               h('span', { class: 'hw-muted' }, 'Applying writes the kvm_amd option file; kvm_amd must be reloaded (or the host rebooted) for it to take effect.')),
             showAlert('policy', 'policy-alert'),
             dr ? h('div', { id: 'dry-run', class: 'hw-dry-run' },
                    h('h3', { class: 'pf-v5-c-title pf-m-md' }, `Dry run (nothing applied): the pools after the next kvm_amd load, ${dr.cth ? dr.cth + ' SNP ASIDs with ciphertext hiding' : 'no ciphertext hiding'}`),
                    dr.problems.length ? h('ul', { class: 'hw-plain', id: 'dry-run-problems' }, dr.problems.map(([sev, code, msg]) =>
                        h('li', {}, label(sev, sev === 'error' ? 'red' : 'orange'), ' ', msg, ' ', h('span', { class: 'hw-muted' }, `(${code})`)))) : null,
                    poolBars(dr.pools, a.MaxAsid, 'dry-pool'),
                    h('ul', { class: 'hw-list' }, dr.explanation.map(s => h('li', {}, s))))
                 : null);
}

/* ---- Firmware ---- */
function versionText(v) {
    if (!v || !v.Valid)
        return v && v.Error ? `unreadable: ${v.Error}` : 'unknown';
    const strings = (v.Strings || []).map(s => s[1]).filter(s => s.length > 8);
    return [strings[0] || '(no readable text)', h('br'), h('span', { class: 'hw-mono hw-muted' }, 'sha256 ' + (v.Sha256 || '').slice(0, 16) + '…')];
}

function schedule(window) {
    const name = ui.firmwareName.trim();
    if (!name) {
        setAlert('firmware', 'danger', 'Enter the name of a package staged in /lib/firmware/amd/.');
        mark('firmware');
        return;
    }
    const opts = window ? { Window: { t: 'b', v: true } } : {};
    client.call(ROOT + '/firmware', FIRMWARE, 'ScheduleUpdate', [name, 0, 0, opts]).then(([job]) => {
        setAlert('firmware', 'success', `Scheduled ${name} ${window ? 'for the next maintenance window' : 'now'} (${job.split('/').pop() === job ? job : 'job ' + job.split('/').pop()}).`);
        mark('firmware');
    }).catch(err => {
        setAlert('firmware', 'danger', refusalTitle(err, 'The update was not scheduled'), errorText(err));
        refreshCan();
        mark('firmware');
    });
}

function cancelJob(path) {
    client.call(path, JOB, 'Cancel', []).then(() => {
        setAlert('firmware', 'info', `Cancelled job ${path.split('/').pop()}.`);
        mark('firmware');
    }).catch(err => {
        setAlert('firmware', 'danger', refusalTitle(err, 'The job was not cancelled'), errorText(err));
        refreshCan();
        mark('firmware');
    });
}

function renderFirmware() {
    const f = props(ROOT + '/firmware', FIRMWARE);
    if (!f)
        return [alert('info', 'No firmware information from hwsecd.')];
    const out = [];
    const v = f.Versions || {};
    out.push(card('Versions', dl([
        ['SFS device', f.SfsPresent ? label('present', 'green') : label('absent', 'orange'), 'sfs-present'],
        ['Readable text', (v.Strings || []).map(s => h('div', {}, s[1])), 'fw-strings'],
        ['Blob sha256', h('span', { class: 'hw-mono' }, v.Sha256 || '—')],
        ['Status', v.Status || '—'],
        ['Maintenance windows', f.MaintenanceWindows.length ? f.MaintenanceWindows.join('; ') : 'none configured (MaintenanceWindow= in hwsecd.conf)', 'fw-windows'],
    ])));

    const nameInput = h('span', { class: 'pf-v5-c-form-control' },
                        h('input', { type: 'text', id: 'fw-package', value: ui.firmwareName, placeholder: 'package in /lib/firmware/amd/',
                                     'aria-label': 'Staged package name', oninput: e => { ui.firmwareName = e.target.value; } }));
    out.push(card('Schedule an update', [
        h('p', {}, 'The package must already be staged in ', h('code', { class: 'hw-code' }, '/lib/firmware/amd/'),
          ' (hwsecctl firmware stage). hwsecd checks its name, size and the allow-list again when the job starts.'),
        h('div', { class: 'hw-actions' }, nameInput,
          actionButton('Update now', ACTIONS.schedule, () => schedule(false), { id: 'fw-now', variant: 'primary' }, f.SfsPresent ? null : 'There is no /dev/sfs on this host.'),
          actionButton('In the next maintenance window', ACTIONS.schedule, () => schedule(true), { id: 'fw-window' },
                       !f.SfsPresent ? 'There is no /dev/sfs on this host.' : f.MaintenanceWindows.length ? null : 'No maintenance window is configured (MaintenanceWindow= in hwsecd.conf).')),
        showAlert('firmware', 'fw-alert'),
    ]));

    const jobs = (f.Jobs || []).map(p => [p, props(p, JOB)]).filter(([, j]) => j);
    const active = jobs.filter(([, j]) => j.State === 'scheduled' || j.State === 'running');
    out.push(card('Jobs', active.length
        ? table(['Job', 'Package', 'State', 'Not before', 'Deadline', ''], active.map(([p, j]) =>
            tr([String(j.Id), j.Payload, label(j.State, JOB_COLOR[j.State], { 'data-state': j.State }),
                j.InWindow ? 'next maintenance window' : when(j.NotBefore), j.NotAfter ? when(j.NotAfter) : 'none',
                j.State === 'scheduled' ? actionButton('Cancel', ACTIONS.cancel, () => cancelJob(p), { id: 'cancel-' + j.Id, variant: 'link' }) : ''],
               { 'data-job': j.Id })), { id: 'jobs-table' })
        : h('p', { id: 'jobs-empty', class: 'hw-muted' }, 'No update is scheduled or running.')));

    const done = history.slice().reverse();
    out.push(card('History', done.length
        ? table(['Job', 'Package', 'Result', 'Finished', 'Before', 'After'], done.map(e =>
            tr([String(e.id), e.payload, [label(e.state, JOB_COLOR[e.state], { 'data-state': e.state }), h('div', { class: 'hw-muted' }, e.result)],
                when(e.finished), versionText(e.before), versionText(e.after)], { 'data-history': e.id })), { id: 'history-table' })
        : h('p', { class: 'hw-muted' }, 'No update has finished yet.')));
    return out;
}

/* ---- PCIe isolation ---- */
const CLASS_NAMES = {
    0x0600: 'Host bridge', 0x0601: 'ISA bridge', 0x0604: 'PCI bridge', 0x0200: 'Ethernet controller', 0x0108: 'NVMe controller',
    0x0106: 'SATA controller', 0x0300: 'VGA controller', 0x0302: '3D controller', 0x0c03: 'USB controller', 0x0c05: 'SMBus',
    0x1080: 'Encryption controller', 0x1200: 'Accelerator', 0x0880: 'System peripheral', 0x0b40: 'Co-processor',
};

function className(cls) {
    return CLASS_NAMES[cls >> 8] || `class ${(cls >> 8).toString(16).padStart(4, '0')}`;
}

function pciIndex() {
    const devs = {};
    for (const [, ifs] of Object.entries(objects)) {
        const d = ifs[PCIDEV];
        if (d)
            devs[d.Address] = d;
    }
    const children = {};
    const roots = [];
    for (const d of Object.values(devs)) {
        if (d.Parent && devs[d.Parent])
            (children[d.Parent] = children[d.Parent] || []).push(d.Address);
        else
            roots.push(d.Address);
    }
    const cmp = (a, b) => a.localeCompare(b);
    roots.sort(cmp);
    Object.values(children).forEach(l => l.sort(cmp));
    return { devs, children, roots };
}

function selectDevice(addr) {
    ui.selected = addr;
    ui.assign = { addr, loading: true };
    mark('pci');
    client.call(ROOT + '/pci', PCI, 'CheckAssignable', [addr]).then(([verdict, reasons, devices]) => {
        if (ui.selected === addr)
            ui.assign = { addr, verdict, reasons, devices };
        mark('pci');
    }).catch(err => {
        if (ui.selected === addr)
            ui.assign = { addr, error: errorText(err) };
        mark('pci');
    });
}

function renderPci() {
    const p = props(ROOT + '/pci', PCI);
    if (!p)
        return [alert('info', 'No PCI information from hwsecd.')];
    const t0 = performance.now();
    const { devs, children, roots } = pciIndex();
    const unsafe = new Set(p.UnsafeDevices);
    if (!ui.expandedInit && roots.length) {
        /* open the way to every unsafe device so that they show at once */
        ui.expandedInit = true;
        roots.forEach(r => ui.expanded.add(r));
        for (const a of unsafe) {
            let d = devs[a];
            while (d && d.Parent && devs[d.Parent]) {
                ui.expanded.add(d.Parent);
                d = devs[d.Parent];
            }
        }
    }
    const out = [];
    const s = p.Summary || {};
    out.push(card('Summary', [
        h('div', { class: 'hw-summary', id: 'pci-summary' },
          label(`${s.devices || 0} devices`, null, { 'data-count': 'devices' }),
          ['isolated', 'shared', 'unsafe', 'unknown', 'no-iommu'].filter(v => s[v] || v === 'unsafe')
              .map(v => label(`${s[v] || 0} ${v}`, s[v] ? VERDICT_COLOR[v] : 'green', { 'data-count': v })),
          label(`IOMMU ${p.Iommu}`, p.Iommu === 'on' ? 'green' : 'red', { id: 'pci-iommu' })),
        p.HostFindings.map(([id, severity, msg]) => alert(severity === 'fatal' ? 'danger' : 'warning', msg, null, { 'data-finding': id })),
    ]));
    if (p.UnsafeGroups.length)
        out.push(alert('danger', `${p.UnsafeGroups.length} isolation group${p.UnsafeGroups.length > 1 ? 's are' : ' is'} unsafe: the kernel's IOMMU groups split devices that can reach each other`,
                       h('ul', { class: 'hw-plain', id: 'unsafe-groups' }, p.UnsafeGroups.map(leader => h('li', { class: 'hw-mono' }, (p.IsolationGroups.find(g => g[0] === leader) || [leader]).join(', ')))),
                       { id: 'unsafe-alert' }));

    const rows = [];
    const visit = (addr, depth) => {
        const d = devs[addr];
        const kids = children[addr] || [];
        const open = ui.expanded.has(addr);
        const cls = 'pf-v5-c-table__tr hw-tree-row' + (unsafe.has(addr) ? ' hw-unsafe' : '') + (ui.selected === addr ? ' hw-selected' : '');
        rows.push(h('tr', { class: cls, 'data-address': addr, 'data-verdict': d.Verdict, onclick: () => selectDevice(addr) },
                    h('td', { class: 'pf-v5-c-table__td' },
                      h('span', { style: { paddingLeft: `${depth * 1.25}rem` } }),
                      kids.length
                          ? h('button', { class: 'hw-tree-toggle', 'aria-expanded': String(open), 'aria-label': (open ? 'Collapse ' : 'Expand ') + addr,
                                          onclick: e => { e.stopPropagation(); open ? ui.expanded.delete(addr) : ui.expanded.add(addr); mark('pci'); } },
                                 open ? '▾' : '▸')
                          : h('span', { class: 'hw-tree-toggle' }),
                      h('span', { class: 'hw-mono', title: `vendor:device ${d.Vendor.toString(16).padStart(4, '0')}:${d.Device.toString(16).padStart(4, '0')}` }, addr), ' ', className(d.Class),
                      d.PortType && d.PortType !== 'endpoint' && d.PortType !== 'none' ? h('span', { class: 'hw-muted' }, ` (${d.PortType})`) : null,
                      kids.length && !open ? h('span', { class: 'hw-muted' }, ` · ${kids.length} below`) : null),
                    h('td', { class: 'pf-v5-c-table__td' }, d.Driver || '—'),
                    h('td', { class: 'pf-v5-c-table__td' }, d.KernelGroup < 0 ? '—' : String(d.KernelGroup)),
                    h('td', { class: 'pf-v5-c-table__td' }, d.AcsPresent ? 'yes' : /^(downstream|root)/.test(d.PortType) ? label('missing', 'orange') : '—'),
                    h('td', { class: 'pf-v5-c-table__td' }, label(d.Verdict, VERDICT_COLOR[d.Verdict]))));
        if (!open)
            return;
        const limit = ui.shown[addr] || TREE_CHUNK;
        kids.slice(0, limit).forEach(k => visit(k, depth + 1));
        if (kids.length > limit)
            rows.push(h('tr', { class: 'pf-v5-c-table__tr hw-more' },
                        h('td', { class: 'pf-v5-c-table__td', colspan: '5' },
                          h('button', { class: 'pf-v5-c-button pf-m-link', type: 'button', 'data-more': addr,
                                        onclick: () => { ui.shown[addr] = limit + TREE_CHUNK * 5; mark('pci'); } },
                            `Show ${Math.min(TREE_CHUNK * 5, kids.length - limit)} more of ${kids.length - limit} below ${addr}`))));
    };
    roots.forEach(r => visit(r, 0));
    const tree = h('table', { class: 'pf-v5-c-table pf-m-compact hw-tree', role: 'treegrid', id: 'pci-tree' },
                   h('thead', { class: 'pf-v5-c-table__thead' },
                     h('tr', { class: 'pf-v5-c-table__tr' }, ['Device', 'Driver', 'Group', 'ACS', 'Verdict'].map(x => h('th', { class: 'pf-v5-c-table__th' }, x)))),
                   h('tbody', { class: 'pf-v5-c-table__tbody' }, rows));
    const grid = h('div', { class: 'hw-grid hw-pci-grid' }, card('Devices', h('div', { class: 'hw-scroll' }, tree)), card('Assigning a device', assignPanel(devs)));
    out.push(grid);
    window.hwsecdTimings.pciRender = performance.now() - t0;
    window.hwsecdTimings.pciRows = rows.length;
    return out;
}

function assignPanel(devs) {
    if (!ui.selected)
        return h('p', { class: 'hw-muted', id: 'assign-panel' }, 'Select a device to see what must move with it to a guest, and why.');
    const a = ui.assign || {};
    const d = devs[ui.selected];
    if (a.loading)
        return h('p', { id: 'assign-panel' }, `Checking ${ui.selected}…`);
    if (a.error)
        return alert('danger', `Cannot check ${ui.selected}`, a.error, { id: 'assign-panel' });
    return h('div', { id: 'assign-panel', 'data-address': a.addr },
             h('p', {}, h('span', { class: 'hw-mono' }, a.addr), ' ', d ? className(d.Class) : '', ' ', label(a.verdict, VERDICT_COLOR[a.verdict], { id: 'assign-verdict' })),
             h('h3', { class: 'pf-v5-c-title pf-m-md' }, a.devices.length > 1 ? `Must move to the guest with it (${a.devices.length} devices)` : 'Can be assigned alone'),
             table(['Device', 'Driver', 'Ready for VFIO'], a.devices.map(([addr, driver, ready]) =>
                 tr([h('span', { class: 'hw-mono' }, addr), driver || 'none', ready ? label('ready', 'green') : label('not ready', 'orange')], { 'data-member': addr })),
                   { id: 'assign-members' }),
             h('h3', { class: 'pf-v5-c-title pf-m-md' }, 'Why'),
             h('ul', { class: 'hw-list', id: 'assign-reasons' }, a.reasons.map(r => h('li', {}, r))));
}

/* ---- start ---- */
document.addEventListener('DOMContentLoaded', () => {
    for (const li of document.querySelectorAll('#tabs .pf-v5-c-tabs__item'))
        li.querySelector('button').addEventListener('click', () => showSection(li.dataset.section));
    cockpit.transport.wait(() => connect());
});

/* for the browser tests and for debugging from the console */
window.hwsecdDebug = () => ({ connected: !!client, objects: Object.keys(objects).length, dirty: [...dirty], section, checks: checks.length });
