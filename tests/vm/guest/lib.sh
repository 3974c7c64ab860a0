# Helpers of the guest driver (sourced by tests/vm/guest/run) and the tests themselves, one
# function t_<name> each: return 0 to pass; detail "..." adds to the result line.
# shellcheck shell=bash

OUT=$SHARE/out
MODE=$(cat "$SHARE/mode")
# shellcheck disable=SC2034 # used by tests/vm/guest/run
if [ "$MODE" = acpi ]; then PREFIX=vm; else PREFIX=vm-$MODE; fi
export DEBIAN_FRONTEND=noninteractive SYSTEMD_PAGER='' SYSTEMD_COLORS=0 LC_ALL=C.UTF-8
TEST_USER=hwsecuser     # unprivileged, in no special group
OP_USER=hwsecop         # unprivileged, in OP_GROUP, which a polkit rule lets stage firmware
OP_GROUP=hwsecadm

marker() { echo "HWSEC-VM-$1 ${2:-}" >/dev/ttyS0; }
detail() { echo "$*" >>"$OUT/.detail"; }
fail() { detail "$*"; return 1; }

# wait_until SECONDS COMMAND...: polls every 0.2 s until COMMAND succeeds.
wait_until() {
        local deadline=$(($(date +%s) + $1))
        shift
        until "$@"; do
                [ "$(date +%s)" -ge "$deadline" ] && return 1
                sleep 0.2
        done
}

main_pid() { systemctl show -P MainPID hwsecd; }
is_running() { [ "$(systemctl show -P SubState hwsecd)" = running ] && [ "$(main_pid)" != 0 ]; }
is_inactive() { [ "$(systemctl show -P ActiveState hwsecd)" = inactive ]; }
message_id() { sed -n "s/^#define $1 *\"\([0-9a-f]*\)\"/\1/p" "$SHARE/log.h"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

ensure_users() {
        getent group "$OP_GROUP" >/dev/null || groupadd "$OP_GROUP"
        id "$TEST_USER" >/dev/null 2>&1 || useradd -m "$TEST_USER"
        id "$OP_USER" >/dev/null 2>&1 || useradd -m -G "$OP_GROUP" "$OP_USER"
}

# A firmware package file any user can read (staging only places the file: no PSP needed).
package_file() {
        head -c 4096 /dev/urandom >"/tmp/$1"
        chmod 0644 "/tmp/$1"
        echo "/tmp/$1"
}

t_install() {
        local deb t0
        deb=$(ls "$SHARE"/hwsecd_*.deb) || fail "no .deb in the share" || return 1
        cp "$deb" /tmp/ && deb=/tmp/$(basename "$deb")
        t0=$(now)
        # Offline: every dependency is in the image, so apt resolves from the status file.
        apt-get install -y --no-install-recommends "$deb" || fail "apt-get install $(basename "$deb") failed" || return 1
        detail "apt-get install took $(elapsed "$t0") s;"
        dpkg-query -W -f='${Status}' hwsecd | grep -q 'install ok installed' || fail "dpkg says: $(dpkg-query -W -f='${Status}' hwsecd)" || return 1
        [ "$(systemctl is-enabled hwsecd)" = enabled ] || fail "postinst did not enable the unit" || return 1
        wait_until 60 is_running || fail "postinst did not start hwsecd: $(systemctl is-active hwsecd)" || return 1
        detail "hwsecd $(dpkg-query -W -f='${Version}' hwsecd) installed, enabled and running"
}

t_enable_now() {
        systemctl enable --now hwsecd || fail "systemctl enable --now failed" || return 1
        wait_until 60 is_running || fail "state $(systemctl show -P ActiveState,SubState hwsecd | tr '\n' /)" || return 1
        [ "$(systemctl is-active hwsecd)" = active ] || fail "is-active says $(systemctl is-active hwsecd)" || return 1
        local owner pid
        pid=$(main_pid)
        owner=$(busctl status org.hwsecd1 | sed -n 's/^PID=//p')
        [ "$owner" = "$pid" ] || fail "org.hwsecd1 is owned by PID ${owner:-nobody}, the unit's main PID is $pid" || return 1
        detail "active (running), PID $pid owns org.hwsecd1"
}

t_stop_fast() {
        is_running || fail "hwsecd is not running before the test" || return 1
        local t0 s rc
        t0=$(now)
        systemctl stop hwsecd
        rc=$?
        s=$(elapsed "$t0")
        [ $rc = 0 ] || fail "systemctl stop exited $rc" || return 1
        is_inactive || fail "state after stop: $(systemctl show -P ActiveState hwsecd)" || return 1
        [ "$(systemctl show -P Result hwsecd)" = success ] || fail "Result=$(systemctl show -P Result hwsecd)" || return 1
        detail "systemctl stop: exit 0 in ${s} s, Result=success"
        awk -v s="$s" 'BEGIN { exit !(s < 1.0) }' || fail "stop took ${s} s (limit 1 s)" || return 1
}

t_activation() {
        systemctl stop hwsecd
        is_inactive || fail "could not stop hwsecd first" || return 1
        local since out
        since=$(date '+%Y-%m-%d %H:%M:%S')
        out=$(busctl call --timeout=120 org.hwsecd1 /org/hwsecd1 org.hwsecd1.Manager Describe) ||
                fail "busctl call Describe failed with the service stopped" || return 1
        [[ $out == s* ]] || fail "unexpected reply: ${out:0:80}" || return 1
        is_running || fail "the unit is not running after the call" || return 1
        journalctl --since "$since" -u dbus --no-pager -o cat | grep -q "Activating via systemd: service name='org.hwsecd1'" ||
                fail "dbus-daemon's journal does not show the activation" || return 1
        detail "Describe() on the stopped service started hwsecd.service through D-Bus activation (PID $(main_pid))"
}

t_state_kept_after_kill() {
        is_running || systemctl start hwsecd
        wait_until 60 is_running || fail "hwsecd is not running" || return 1
        local f=/var/lib/hwsecd/state.json pid before after restarts
        # The first start records the readiness checks' "last" results in state.json. A daemon
        # that reads the file back after a restart finds them and leaves the file alone; one
        # that lost it would record them again with a new time stamp.
        wait_until 30 test -s "$f" || fail "$f was not written" || return 1
        python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if "last" in d.get("checks", {}) else 1)' "$f" ||
                fail "$f has no checks.last" || return 1
        before=$(sha256sum <"$f")
        pid=$(main_pid)
        restarts=$(systemctl show -P NRestarts hwsecd)
        systemctl kill -s KILL hwsecd || fail "systemctl kill failed" || return 1
        wait_until 60 bash -c "[ \"\$(systemctl show -P MainPID hwsecd)\" != $pid ] && [ \"\$(systemctl show -P SubState hwsecd)\" = running ]" ||
                fail "hwsecd was not restarted after SIGKILL: $(systemctl show -P ActiveState,SubState hwsecd | tr '\n' /)" || return 1
        [ "$(systemctl show -P NRestarts hwsecd)" -gt "$restarts" ] || fail "NRestarts did not grow" || return 1
        [ -s "$f" ] || fail "$f is gone after the restart" || return 1
        ls /var/lib/hwsecd/state.json.corrupt-* >/dev/null 2>&1 && { fail "the state was set aside as corrupt"; return 1; }
        hwsecctl status >/dev/null || fail "the restarted daemon does not answer" || return 1
        after=$(sha256sum <"$f")
        [ "$before" = "$after" ] || fail "state.json was rewritten after the restart: the old one was not read back" || return 1
        detail "SIGKILL of PID $pid: systemd restarted it as PID $(main_pid); state.json kept and read back (unchanged)"
}

t_polkit_root() {
        busctl call org.hwsecd1 /org/hwsecd1 org.hwsecd1.Manager Reload || fail "root's Manager.Reload() failed" || return 1
        hwsecctl --no-ask-password firmware stage "$(package_file vm-root.sbin)" || fail "root's firmware stage failed" || return 1
        [ -f /lib/firmware/amd/vm-root.sbin ] || fail "the staged package is not in /lib/firmware/amd" || return 1
        detail "root: Manager.Reload() and firmware stage allowed by the real polkitd"
}

t_polkit_user_refused() {
        ensure_users
        local f rc err js
        runuser -u "$TEST_USER" -- hwsecctl status >/dev/null || fail "an unprivileged user cannot read the status" || return 1
        runuser -u "$TEST_USER" -- hwsecctl --json pci audit >/dev/null || fail "an unprivileged user cannot read the PCI audit" || return 1
        f=$(package_file vm-user.sbin)
        err=$(runuser -u "$TEST_USER" -- hwsecctl --no-ask-password firmware stage "$f" 2>&1 >/dev/null)
        rc=$?
        [ $rc = 3 ] || fail "hwsecctl firmware stage as $TEST_USER exited $rc, not 3 ($err)" || return 1
        [ -n "$err" ] || fail "no message on stderr" || return 1
        [ -e /lib/firmware/amd/vm-user.sbin ] && { fail "the package was staged anyway"; return 1; }
        js=$(runuser -u "$TEST_USER" -- hwsecctl --json --no-ask-password firmware stage "$f" 2>/dev/null)
        python3 -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if d["exit_code"] == 3 and d["error"] in ("org.freedesktop.DBus.Error.InteractiveAuthorizationRequired", "org.hwsecd1.Error.AccessDenied", "org.freedesktop.DBus.Error.AccessDenied") else 1)' "$js" ||
                fail "--json error document: $js" || return 1
        runuser -u "$TEST_USER" -- busctl call --allow-interactive-authorization=no org.hwsecd1 /org/hwsecd1 org.hwsecd1.Manager Reload &&
                fail "Manager.Reload() as $TEST_USER was allowed" && return 1
        detail "$TEST_USER may read; stage refused with exit 3 ($(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["error"])' "$js")): \"$err\"; Reload refused"
}

t_polkit_rules_group() {
        ensure_users
        local rules=/etc/polkit-1/rules.d/50-hwsecd-vm-test.rules f rc
        cat >"$rules" <<EOF
polkit.addRule(function(action, subject) {
        if ((action.id == "org.hwsecd1.stage-firmware" || action.id == "org.hwsecd1.reload") &&
            subject.isInGroup("$OP_GROUP"))
                return polkit.Result.YES;
});
EOF
        f=$(package_file vm-op.sbin)
        # polkitd notices new rules files by itself (inotify); give it time.
        wait_until 60 runuser -u "$OP_USER" -- hwsecctl --no-ask-password firmware stage "$f" ||
                fail "$OP_USER (group $OP_GROUP) still cannot stage with the rule in place" || return 1
        [ -f /lib/firmware/amd/vm-op.sbin ] || fail "vm-op.sbin was not staged" || return 1
        runuser -u "$OP_USER" -- busctl call --allow-interactive-authorization=no org.hwsecd1 /org/hwsecd1 org.hwsecd1.Manager Reload ||
                fail "$OP_USER cannot Reload with the rule" || return 1
        runuser -u "$TEST_USER" -- hwsecctl --no-ask-password firmware stage "$f" >/dev/null 2>&1
        rc=$?
        rm -f "$rules"
        [ $rc = 3 ] || fail "$TEST_USER (not in $OP_GROUP) got exit $rc with the rule, not 3" || return 1
        detail "rule for group $OP_GROUP: $OP_USER may stage and Reload; $TEST_USER still refused (exit 3)"
}

t_pkaction() {
        python3 "$GUEST/checks.py" pkaction "$SHARE/org.hwsecd1.policy"
}

t_security_exposure() {
        local out level
        out=$(systemd-analyze security --no-pager hwsecd 2>&1) || true
        echo "$out" | tail -n 25
        level=$(echo "$out" | sed -n 's/.*Overall exposure level for hwsecd.service: \([0-9.]*\).*/\1/p')
        [ -n "$level" ] || fail "no exposure level in the output" || return 1
        detail "live exposure $level"
        awk -v l="$level" 'BEGIN { exit !(l <= 1.5) }' || fail "above 1.5" || return 1
}

t_sandbox_mounts() {
        is_running || systemctl start hwsecd
        python3 "$GUEST/checks.py" mounts "$(main_pid)"
}

t_sandbox_writes() {
        is_running || systemctl start hwsecd
        ensure_users
        python3 "$GUEST/checks.py" writes "$(main_pid)"
}

t_journal_start_id() {
        local id n
        id=$(message_id MESSAGE_ID_DAEMON_STARTED)
        [ -n "$id" ] || fail "MESSAGE_ID_DAEMON_STARTED not found in log.h" || return 1
        n=$(journalctl -u hwsecd "MESSAGE_ID=$id" -o cat --no-pager | tee -a /dev/stderr | wc -l)
        [ "$n" -ge 1 ] || fail "journalctl -u hwsecd MESSAGE_ID=$id finds nothing" || return 1
        detail "journalctl -u hwsecd MESSAGE_ID=$id: $n start-up message(s)"
}

t_no_psp_clean() {
        is_running || systemctl start hwsecd
        python3 "$GUEST/checks.py" no-psp
}

t_man_page() {
        local p out err
        for p in hwsecctl hwsecd hwsecd.conf; do
                out=$(MANWIDTH=80 man -P cat "$p" 2>/tmp/man.err) || fail "man $p failed: $(cat /tmp/man.err)" || return 1
                err=$(cat /tmp/man.err)
                [ -z "$err" ] || fail "man $p warned: $err" || return 1
                echo "$out" | grep -q '^NAME' || fail "man $p has no NAME section" || return 1
                echo "$out" | grep -qi "$p" || fail "man $p does not mention $p" || return 1
        done
        detail "man hwsecctl, hwsecd, hwsecd.conf render without warnings ($(echo "$out" | wc -l) lines for the last)"
}

t_bash_completion() {
        python3 "$GUEST/checks.py" completion
}

t_pci_groups() {
        is_running || systemctl start hwsecd
        python3 "$GUEST/checks.py" groups
}

t_pci_verdicts() {
        python3 "$GUEST/checks.py" verdicts
}

t_hotplug_root_port() {
        is_running || systemctl start hwsecd
        python3 "$GUEST/hotplug.py" --qdev-bus rp2 --id hp-rp --expect isolated
}

t_hotplug_switch_port() {
        is_running || systemctl start hwsecd
        python3 "$GUEST/hotplug.py" --qdev-bus dp2 --id hp-dp --expect unsafe
}

t_journal_no_errors() {
        local n all
        all=$(journalctl -b _SYSTEMD_UNIT=hwsecd.service -o cat --no-pager | wc -l)
        n=$(journalctl -b -p 0..3 _SYSTEMD_UNIT=hwsecd.service -o cat --no-pager | tee -a /dev/stderr | wc -l)
        [ "$all" -gt 0 ] || fail "no journal entries of hwsecd.service at all" || return 1
        [ "$n" = 0 ] || fail "$n message(s) of priority <= 3 (err) from hwsecd: $(journalctl -b -p 0..3 _SYSTEMD_UNIT=hwsecd.service -o cat --no-pager | head -3 | tr '\n' ' ')" || return 1
        detail "$all journal entries from hwsecd.service this boot, none of priority err or worse"
}

t_purge() {
        apt-get purge -y hwsecd || fail "apt-get purge failed" || return 1
        local left=() f
        for f in /lib/systemd/system/hwsecd.service /etc/systemd/system/multi-user.target.wants/hwsecd.service \
                /usr/share/dbus-1/system.d/org.hwsecd1.conf /usr/share/dbus-1/system-services/org.hwsecd1.service \
                /usr/share/polkit-1/actions/org.hwsecd1.policy /lib/udev/rules.d/60-hwsecd.rules \
                /usr/libexec/hwsecd /usr/bin/hwsecctl /var/lib/hwsecd /etc/hwsecd; do
                [ -e "$f" ] || [ -L "$f" ] && left+=("$f")
        done
        [ ${#left[@]} = 0 ] || fail "left behind: ${left[*]}" || return 1
        pgrep -x hwsecd >/dev/null && { fail "a hwsecd process is still running"; return 1; }
        [ -n "$(systemctl list-unit-files --no-legend hwsecd.service)" ] && { fail "systemd still knows hwsecd.service"; return 1; }
        busctl status org.hwsecd1 >/dev/null 2>&1 && { fail "org.hwsecd1 is still on the bus"; return 1; }
        pkaction | grep -q '^org\.hwsecd1\.' && { fail "polkitd still lists org.hwsecd1 actions"; return 1; }
        dpkg-query -W -f='${Status}' hwsecd 2>/dev/null | grep -q ' installed$' && { fail "dpkg: $(dpkg-query -W -f='${Status}' hwsecd)"; return 1; }
        detail "no unit, bus policy, activation file, polkit action, udev rule, state or process left"
}
