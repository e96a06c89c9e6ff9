#!/bin/sh
# The L2TP/IPsec scenario, run by init.sh inside User-mode Linux (tests/test_l2tp_e2e.py).
#
# Three network namespaces on one bridge: gw (192.0.2.1), dev1 (192.0.2.2) and dev2
# (192.0.2.3). The gateway runs charon + xl2tpd from the files L2tpDriver.apply writes
# from the console's desired configs (config-1: accesses A and B; config-2: after A's
# reissue; config-3: after A's delete). The devices run charon + xl2tpd + pppd with
# the credentials as the complete page showed them. Each dial is one run of the
# device's xl2tpd (it dials at start and ends after the hang-up) from a quiet line:
# xl2tpd in kernel mode loses a new tunnel's packets to an old tunnel's socket of the
# same two addresses while that one is still closing, on either side, so a dial
# waits until neither the device nor the gateway has a tunnel socket for it left.
# Each phase writes key=value lines to $W/result.txt; sniff.py counts what crosses
# the bridge into $W/wire.json.
#
# Layout of $W (made by tests/uml/l2tp_files.py): env.sh, gw/, dev1/, dev2/.
set -u
W="$uml_work"
. "$W/env.sh"    # PYTHON, HERE, REPO
R="$W/result.txt"
: > "$R"

# Every fork+exec costs UML tens of milliseconds, so the polling helpers use shell
# builtins only: /proc/uptime for the clock, /proc/<pid>/net of a daemon of each
# namespace for its interfaces and routes, /proc/<pid>/root for its private /run.
say() { echo "$1=$2" >> "$R"; }
tick() { read -r up _ < /proc/uptime; now=$((${up%.*}${up#*.})); }  # centiseconds
uptime_s() { read -r up _ < /proc/uptime; echo "$up"; }
ms_since() { tick; echo $(((now - $1) * 10)); }
ns_pid() { eval "p=\$pid_$1"; }  # sets $p without a subshell

wait_for() {  # seconds command...: poll until the command succeeds or time is up
    tick; deadline=$((now + $1 * 100)); shift
    while :; do
        "$@" && return 0
        tick; [ "$now" -ge "$deadline" ] && return 1
        sleep 0.1
    done
}
has_ppp() {  # ns: ppp0 finished IPCP (the kernel has its peer route)
    ns_pid "$1"
    while read -r iface _; do
        [ "$iface" = ppp0 ] && return 0
    done < "/proc/$p/net/route"
    return 1
}
no_ppp() {  # ns: no ppp0 interface at all
    ns_pid "$1"
    while read -r iface _; do
        [ "$iface" = ppp0: ] && return 1
    done < "/proc/$p/net/dev"
    return 0
}
logged() {  # file text
    while IFS= read -r line; do
        case $line in *"$2"*) return 0 ;; esac
    done < "$1"
    return 1
}
hex_address() {  # dotted quad -> /proc/net/udp's little-endian hex
    old_ifs=$IFS
    IFS=.
    # shellcheck disable=SC2086  # split on the dots
    set -- $1
    IFS=$old_ifs
    printf '%02X%02X%02X%02X' "$4" "$3" "$2" "$1"
}
l2tp_sockets() {  # ns: how many UDP sockets on port 1701 the namespace has; sets $n
    ns_pid "$1"
    n=0
    while read -r _ local _; do
        case $local in *:06A5) n=$((n + 1)) ;; esac
    done < "/proc/$p/net/udp"
}
tunnel_closed() { l2tp_sockets "$1"; [ "$n" -le 1 ]; }  # only xl2tpd's listening one
gateway_quiet() {  # device: the gateway has no tunnel socket for it
    eval "peer=\$hex_$1"
    while read -r _ _ remote _; do
        [ "$remote" = "$peer:06A5" ] && return 1
    done < "/proc/$pid_gw/net/udp"
    return 0
}
line_quiet() { l2tp_sockets "$1"; [ "$n" -eq 0 ] && gateway_quiet "$1"; }
swan() { ns=$1; shift; swanctl "$@" --uri "unix:///mnt/$ns/charon.vici"; }
ping_ppp() {  # ns: pings the gateway's tunnel address over ppp0 only; prints "n/3"
    # A second round only when the first lost a reply: a loaded CI host can drop one
    # echo while a neighbour's session is torn down; a dead tunnel loses both rounds.
    for round in 1 2; do
        got=$(ip netns exec "$1" ping -n -c 3 -i 0.2 -W 2 -I ppp0 "$GW_TUNNEL" 2>/dev/null \
            | sed -n 's/.* \([0-9]*\) received.*/\1/p')
        [ "${got:-0}" = 3 ] && break
    done
    echo "${got:-0}/3"
}
ppp_identity() {  # ns: the client pppd's PID and ppp0's ifindex, to tell a session kept
    ns_pid "$1"
    pid=none
    read -r pid 2>/dev/null < "/proc/$p/root/run/ppp0.pid"
    index=$(ip -n "$1" -o link show dev ppp0 2>/dev/null | cut -d: -f1)
    echo "$pid:${index:-none}"
}
connect() {  # ns lac seconds: dial, wait for ppp0 or the refusal; sets $outcome
    wait_for 15 line_quiet "$1" || { outcome="line busy"; return 1; }
    : > "$W/$1/ppp-$2.log"
    ns_pid "$1"
    nsenter -t "$p" -m -n xl2tpd -D -c "$W/$1/xl2tpd-$2.conf" -p /run/xl2tpd.pid \
        -C "/mnt/$1/l2tp-control" >> "$W/$1/xl2tpd.log" 2>&1 &
    eval "xl2tpd_$1=\$! lac_$1=$2"
    tick; deadline=$((now + $3 * 100))
    while :; do
        has_ppp "$1" && { outcome=up; return 0; }
        logged "$W/$1/ppp-$2.log" "authentication failed" && { outcome="auth failed"; return 1; }
        tick; [ "$now" -ge "$deadline" ] && { outcome=timeout; return 1; }
        sleep 0.1
    done
}
hang_up() {  # ns: hang up as the device would, then end its xl2tpd and so its pppd
    eval "pid=\$xl2tpd_$1 lac=\$lac_$1"
    [ -n "$pid" ] || return 0
    # A graceful hang-up closes the tunnel on both sides; killing xl2tpd right away
    # would leave the gateway talking to a closed port (ICMP errors on the wire).
    echo "d $lac" > "/mnt/$1/l2tp-control"
    wait_for 10 tunnel_closed "$1"
    wait_for 10 gateway_quiet "$1"
    kill -TERM "$pid" 2>/dev/null
    wait_for 10 no_process "$pid" || kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    eval "xl2tpd_$1="
    wait_for 10 no_ppp "$1"
}
no_process() { [ ! -e "/proc/$1" ]; }
apply() {  # config: L2tpDriver.apply in the gateway's namespaces, as the agent would
    nsenter -t "$pid_gw" -m -n "$PYTHON" -I -S -B "$HERE/l2tp_apply.py" \
        "$REPO/gateways/l2tp.py" "$W/gw/driver.json" "$W/gw/$1" 2>&1 | tail -1
}
in_block() {  # XfrmInPolBlock of the gateway: inbound packets dropped by a block policy
    while read -r name value; do
        [ "$name" = XfrmInPolBlock ] && { echo "$value"; return; }
    done < "/proc/$pid_gw/net/xfrm_stat"
    echo 0
}

say boot.uptime "$(uptime_s)"

# --- the wire: a bridge with one veth per namespace -----------------------------------
# No IPv6 anywhere (the bridge module pulls it in) and no IGMP reports from the bridge
# ports: that chatter would be traffic outside 192.0.2.0/24 on the wire.
no_ipv6="net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1"
# shellcheck disable=SC2086
sysctl -qw $no_ipv6 net.ipv4.igmp_link_local_mcast_reports=0
ip link add br0 type bridge
ip link set br0 up
for pair in gw:1 dev1:2 dev2:3; do
    ns=${pair%:*}
    ip netns add "$ns"
    # shellcheck disable=SC2086
    ip netns exec "$ns" sysctl -qw $no_ipv6
    ip link add "v-$ns" type veth peer name eth0 netns "$ns"
    ip link set "v-$ns" master br0 up
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add "192.0.2.${pair#*:}/24" dev eth0
    ip -n "$ns" link set eth0 up
done
"$PYTHON" -I -S -B "$HERE/sniff.py" --out "$W/wire.json" --ready "$W/sniff.ready" \
    --allow 192.0.2.0/24 v-gw v-dev1 v-dev2 &
pid_sniff=$!
wait_for 20 test -e "$W/sniff.ready" || say sniff.ready no

# --- daemons: one charon per namespace (its pid file and vici socket are fixed
# paths), each with a private /run and its own /etc/ppp -------------------------------
for ns in gw dev1 dev2; do
    mkdir -p "/mnt/$ns"
    ip netns exec "$ns" sh -c "mount -t tmpfs -o mode=0755 tmpfs /run \
        && mount --bind '$W/$ns/ppp' /etc/ppp \
        && STRONGSWAN_CONF='$W/$ns/strongswan.conf' exec /usr/lib/ipsec/charon" \
        > "$W/$ns/charon.out" 2>&1 &
    eval "pid_$ns=\$!"
done
for ns in gw dev1 dev2; do
    wait_for 30 test -S "/mnt/$ns/charon.vici" || say "$ns.charon" "no vici socket"
done

say apply1 "$(apply config-1.json)"
nsenter -t "$pid_gw" -m -n xl2tpd -D -c "$W/gw/xl2tpd.conf" \
    -p /run/xl2tpd.pid -C /mnt/gw/l2tp-control > "$W/gw/xl2tpd.log" 2>&1 &
pid_xl2tpd_gw=$!
wait_for 10 test -p /mnt/gw/l2tp-control || say gw.xl2tpd "no control pipe"
hex_dev1=$(hex_address 192.0.2.2)
hex_dev2=$(hex_address 192.0.2.3)
xl2tpd_dev1=
xl2tpd_dev2=
say daemons.uptime "$(uptime_s)"

# --- session up: A with the shown PSK, user name and password -------------------------
say t.up "$(uptime_s)"
tick; t=$now
swan dev1 --load-all --file "$W/dev1/swanctl.conf" > /dev/null
if swan dev1 --initiate --ike gw --child l2tp --timeout 20 > "$W/dev1/initiate.log" 2>&1
then say up.initiate ok; else say up.initiate failed; fi
say up.sa_ms "$(ms_since "$t")"
connect dev1 a 20
say up.connect "$outcome"
say up.ping "$(ping_ppp dev1)"
say up.ppp0_uptime "$(uptime_s)"
say up.ppp0_ms "$(ms_since "$t")"
say up.gateway_sas "$(ip -n gw xfrm state | grep -c 'proto esp')"
hang_up dev1

# --- wrong password ---------------------------------------------------------------------
say t.wrong_password "$(uptime_s)"
connect dev1 a-wrong 15
say wrong_password.connect "$outcome"
hang_up dev1
say wrong_password.ppp0 "$(no_ppp dev1 && echo none || echo up)"

# --- wrong PSK: dev2 offers a key that is not the gateway's ---------------------------
say t.wrong_psk "$(uptime_s)"
swan dev2 --load-all --file "$W/dev2/swanctl-wrong-psk.conf" > /dev/null
if swan dev2 --initiate --ike gw --child l2tp --timeout 10 > "$W/dev2/initiate-wrong.log" 2>&1
then say wrong_psk.initiate ok; else say wrong_psk.initiate failed; fi
say wrong_psk.device_sas "$(ip -n dev2 xfrm state | grep -c '^src')"
say wrong_psk.gateway_sas "$(ip -n gw xfrm state | grep -c '192.0.2.3')"

# --- no IPsec at all: L2TP in the clear from dev2, with B's valid credentials --------
say t.cleartext "$(uptime_s)"
blocked_before=$(in_block)
connect dev2 b-clear 6
say cleartext.connect "$outcome"
hang_up dev2
say cleartext.gateway_blocked "$(($(in_block) - blocked_before))"

# --- B comes up on dev2 (the right PSK now) and stays up until the end ----------------
say t.b "$(uptime_s)"
swan dev2 --terminate --ike gw --force --timeout 2 > /dev/null 2>&1
swan dev2 --load-all --file "$W/dev2/swanctl.conf" > /dev/null
if swan dev2 --initiate --ike gw --child l2tp --timeout 20 > "$W/dev2/initiate.log" 2>&1
then say b.initiate ok; else say b.initiate failed; fi
connect dev2 b 20
say b.connect "$outcome"
say b.ping "$(ping_ppp dev2)"
b_session=$(ppp_identity dev2)

# --- reissue: A is online with the old password when the gateway applies it -----------
say t.reissue "$(uptime_s)"
connect dev1 a-online 20
say reissue.before "$outcome"
say reissue.apply "$(apply config-2.json)"
if wait_for 15 no_ppp dev1; then say reissue.live_session ended; else say reissue.live_session kept; fi
hang_up dev1
connect dev1 a-old 15
say reissue.old_password "$outcome"
hang_up dev1
connect dev1 a-new 20
say reissue.new_password "$outcome"
say reissue.new_ping "$(ping_ppp dev1)"
say reissue.b_session "$([ "$(ppp_identity dev2)" = "$b_session" ] && echo kept || echo changed)"
say reissue.b_ping "$(ping_ppp dev2)"

# --- delete: A is online with the new password when the gateway applies it ------------
say t.delete "$(uptime_s)"
say delete.apply "$(apply config-3.json)"
if wait_for 15 no_ppp dev1; then say delete.live_session ended; else say delete.live_session kept; fi
hang_up dev1
connect dev1 a-deleted 15
say delete.new_password "$outcome"
hang_up dev1
say delete.b_session "$([ "$(ppp_identity dev2)" = "$b_session" ] && echo kept || echo changed)"
say delete.b_ping "$(ping_ppp dev2)"

# --- the end: ESP byte counters, then every daemon by its PID -------------------------
say t.end "$(uptime_s)"
for ns in dev1 dev2; do  # "lifetime current:" is followed by "<n>(bytes), <m>(packets)"
    say "esp.$ns" "$(ip -n "$ns" -s xfrm state | awk '/\(bytes\), .*\(packets\)/ \
        { bytes += $1; packets += $2 } END { printf "%d bytes %d packets", bytes, packets }')"
done
hang_up dev2
for pid in $pid_xl2tpd_gw $pid_gw $pid_dev1 $pid_dev2 $pid_sniff; do
    kill -TERM "$pid" 2>/dev/null
done
for pid in $pid_xl2tpd_gw $pid_gw $pid_dev1 $pid_dev2 $pid_sniff; do
    wait "$pid" 2>/dev/null
done
say end.uptime "$(uptime_s)"
