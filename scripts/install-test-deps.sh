#!/usr/bin/env bash
# Installs the programs the end-to-end tests drive as real peers, on Debian 12.
#
# Idempotent: packages already installed are left alone, and loggen is only
# unpacked when it is missing. Must run as root (CI does).
#
# - logger (bsdutils), rsyslogd with its TLS (gtls) and RELP modules;
# - net-snmp's snmptrap and snmpinform (snmp);
# - the monitoring checks' peers: dnsmasq, snmpd and prometheus-node-exporter,
#   which the tests start themselves on free ports (their system services are
#   kept from starting while installing, and stopped if they run anyway);
# - OpenLDAP's slapd and ldap-utils (ldapadd, ldapmodify, ldapwhoami,
#   slappasswd) for the LDAP sign-in tests, which run their own slapd on a
#   free port with a private configuration (the system service is kept from
#   starting, and stopped if it runs; debconf is not asked anything);
# - Python senders for Beats (pylogbeat, python-logstash-async) and GELF (graypy);
# - logrotate, which the file-input tests run with their own state file and
#   configuration to rotate followed files (by rename and by copytruncate);
# - aiosmtpd, the SMTP server the notification tests deliver to (run by the
#   system Python, /usr/bin/python3);
# - Chromium and its chromedriver for the web UI tests, with fonts-liberation
#   (a recommendation the minimal install skips) so screenshots show text;
# - loggen, taken from the syslog-ng-core package without installing it,
#   because syslog-ng-core and rsyslog conflict as installed packages
#   (both provide system-log-daemon). Its runtime libraries are installed.
set -euo pipefail

SNG_ROOT=/opt/hark-peers/syslog-ng
PACKAGES=(bsdutils logrotate rsyslog rsyslog-gnutls rsyslog-relp snmp python3-pip nftables iptables procps iproute2 dnsmasq snmpd prometheus-node-exporter python3-aiosmtpd chromium chromium-driver fonts-liberation slapd ldap-utils)

log() { printf '== %s\n' "$*"; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        echo "install-test-deps: must run as root (or with sudo) to install: $*" >&2
        exit 1
    fi
}

export DEBIAN_FRONTEND=noninteractive

missing_packages() {
    local p
    for p in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
            printf '%s\n' "$p"
        fi
    done
}

apt_updated=0
apt_update_once() {
    if [ "$apt_updated" -eq 0 ]; then
        log "apt-get update"
        as_root apt-get update -q
        apt_updated=1
    fi
}

install_packages() {
    local missing
    mapfile -t missing < <(missing_packages "$@")
    if [ "${#missing[@]}" -gt 0 ]; then
        apt_update_once
        log "apt-get install ${missing[*]}"
        as_root apt-get install -y -q --no-install-recommends "${missing[@]}"
    fi
}

# Daemons installed here must not start as system services: the tests run
# their own instances. policy-rc.d 101 tells invoke-rc.d not to start them.
policy_added=0
if [ ! -e /usr/sbin/policy-rc.d ] && [ "$(id -u)" -eq 0 ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    policy_added=1
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
install_packages "${PACKAGES[@]}"
if [ "$policy_added" -eq 1 ]; then
    rm -f /usr/sbin/policy-rc.d
    trap - EXIT
fi
for svc in dnsmasq snmpd prometheus-node-exporter slapd; do
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
        as_root systemctl disable --now "$svc" || true
    fi
done

if ! python3 -c 'import pylogbeat, logstash_async, graypy' 2>/dev/null; then
    log "pip install pylogbeat python-logstash-async graypy"
    # Debian 12 marks the system Python as externally managed.
    as_root python3 -m pip install -q --break-system-packages pylogbeat python-logstash-async graypy \
        || as_root python3 -m pip install -q pylogbeat python-logstash-async graypy
fi

# loggen: unpack syslog-ng-core beside the system, then install the libraries it links.
if [ ! -x "$SNG_ROOT/usr/bin/loggen" ]; then
    apt_update_once
    log "unpacking syslog-ng-core into $SNG_ROOT"
    work=$(mktemp -d)
    (cd "$work" && apt-get download syslog-ng-core)
    deb=$(ls "$work"/syslog-ng-core_*.deb)
    as_root mkdir -p "$SNG_ROOT"
    # Its Depends, first alternative of each, versions stripped. They are
    # libraries only; the conflict is a Conflicts/Provides, not a Depends.
    dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed -e 's/|.*//' -e 's/(.*)//' -e 's/[[:space:]]//g' \
        | grep -v '^$' >"$work/depends"
    mapfile -t sng_deps <"$work/depends"
    log "syslog-ng-core runtime dependencies: ${sng_deps[*]}"
    install_packages "${sng_deps[@]}"
    as_root dpkg -x "$deb" "$SNG_ROOT"
    rm -rf "$work"
fi

log "checking the peers"
fail=0
check() {
    local what=$1
    shift
    if out=$("$@" 2>&1); then
        printf '   ok  %-8s %s\n' "$what" "$(printf '%s\n' "$out" | head -n 1)"
    else
        printf '   FAIL %-8s (%s)\n%s\n' "$what" "$*" "$out" >&2
        fail=1
    fi
}
check logger logger --version
check rsyslogd rsyslogd -v
check snmptrap snmptrap --version
check dnsmasq dnsmasq --version
check snmpd sh -c 'snmpd -v | grep -m1 version'
check node-exporter prometheus-node-exporter --version
check chromium sh -c 'chromium --version 2>/dev/null'
check chromedriver chromedriver --version
check slapd sh -c 'slapd -VV 2>&1 | grep -m1 slapd'
check ldap-utils sh -c 'for t in ldapadd ldapmodify ldapdelete ldapwhoami slappasswd setpriv; do command -v "$t" >/dev/null || { echo "$t missing"; exit 1; }; done; echo ldapadd ldapmodify ldapdelete ldapwhoami slappasswd setpriv'
check python python3 -c 'import pylogbeat, logstash_async, graypy'
check loggen env LD_LIBRARY_PATH="$SNG_ROOT/usr/lib/syslog-ng" SYSLOGNG_PREFIX="$SNG_ROOT/usr" \
    "$SNG_ROOT/usr/bin/loggen" --help
for m in lmnsd_gtls.so omrelp.so imudp.so imtcp.so; do
    if ! find /usr/lib -path '*rsyslog*' -name "$m" 2>/dev/null | grep -q .; then
        echo "   FAIL rsyslog module $m not found" >&2
        fail=1
    fi
done
if [ "$fail" -ne 0 ]; then
    echo "install-test-deps: a test peer does not run; see above" >&2
    exit 1
fi
log "test dependencies ready"
