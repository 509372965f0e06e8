#!/bin/sh
# Stops and removes the tonari service, program (/opt/tonari) and command
# (/usr/local/bin/tonari). Keeps the configuration (/etc/tonari) and the state
# (/var/lib/tonari: identity key, trusted neighbours, trade ledger) unless --purge is
# given; --purge first copies the ledger (and its CSV export) to
# /var/backups/tonari-DATE/, because trade records may have to be kept by law.
# See docs/service.md.
set -eu

usage() {
  cat <<'EOF'
usage: sudo systemd/uninstall.sh [--purge [--yes]] [--root DIR]

  --purge     also delete /etc/tonari, the state directory and the tonari-config group
              (asks for confirmation on a terminal; elsewhere needs --yes)
  --yes       do not ask
  --root DIR  uninstall from DIR instead of / (an image, a test); systemctl is not run
EOF
}

say() { printf 'uninstall: %s\n' "$*"; }
die() { code=$1; shift; printf 'uninstall: %s\n' "$*" >&2; exit "$code"; }

purge=no yes=no root=''
while [ $# -gt 0 ]; do
  case $1 in
    --purge) purge=yes ;;
    --yes|-y) yes=yes ;;
    --root) [ $# -ge 2 ] || die 64 "--root needs a directory"; root=$2; shift ;;
    --root=*) root=${1#--root=} ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die 64 "unknown option: $1" ;;
  esac
  shift
done
if [ -n "$root" ]; then
  case $root in /*) ;; *) die 64 "--root must be an absolute path: $root" ;; esac
  root=${root%/}
  [ -d "$root" ] || die 64 "--root $root is not a directory"
fi
[ "$(id -u)" -eq 0 ] || die 77 "run as root (sudo $0)"

GROUP=tonari-config
prefix=$root/opt/tonari
etc=$root/etc/tonari
unit=$root/etc/systemd/system/tonari.service
wrapper=$root/usr/local/bin/tonari
# DynamicUser=yes keeps the state in /var/lib/private/tonari behind a /var/lib/tonari link;
# an older install may have a plain directory.
state_link=$root/var/lib/tonari
state_private=$root/var/lib/private/tonari

# Ask before anything is removed, so a refused purge leaves everything in place.
if [ "$purge" = yes ] && [ "$yes" = no ]; then
  if [ -t 0 ]; then
    printf 'This deletes the identity key, the trusted neighbours, the configuration and the ledger\n(a copy of the ledger goes to %s/var/backups/). Type "purge" to go on: ' "$root"
    read -r answer || answer=
    [ "$answer" = purge ] || die 1 "nothing removed"
  else
    die 64 "--purge deletes keys and the ledger: add --yes when not on a terminal; nothing removed"
  fi
fi

# ---- stop and disable ----
if [ -n "$root" ]; then
  say "--root given: systemctl not run"
elif [ -d /run/systemd/system ]; then
  systemctl disable --now tonari.service 2>/dev/null || true
else
  say "systemd is not running here (not PID 1): systemctl not run"
fi

# ---- a copy of the ledger before a purge (needs the program, so before it goes) ----
if [ "$purge" = yes ]; then
  for dir in "$state_private" "$state_link"; do
    [ -f "$dir/ledger.jsonl" ] || continue
    backup=$root/var/backups/tonari-$(date +%Y%m%d-%H%M%S)
    mkdir -p "$backup"
    chmod 0700 "$backup"
    cp -p "$dir/ledger.jsonl" "$backup/ledger.jsonl"
    node=$(sed -n 's/^exec \([^ ]*\) .*/\1/p' "$wrapper" 2>/dev/null || true)
    if [ -n "$node" ] && [ -x "$node" ] && [ -f "$prefix/dist/agent/cli/bin.js" ]; then
      "$node" "$prefix/dist/agent/cli/bin.js" ledger export --csv --file "$backup/ledger.jsonl" >"$backup/ledger.csv" 2>/dev/null \
        || rm -f "$backup/ledger.csv"
    fi
    say "ledger copied to ${backup#"$root"}"
    break
  done
fi

# ---- the service and the program ----
rm -f "$unit"
[ -z "$root" ] && [ -d /run/systemd/system ] && systemctl daemon-reload
if [ -f "$wrapper" ] && grep -q '/opt/tonari/' "$wrapper"; then rm -f "$wrapper"; fi
if [ -L "$wrapper" ]; then
  case $(readlink "$wrapper") in /opt/tonari/*) rm -f "$wrapper" ;; esac
fi
rm -rf "$prefix" "$prefix.new" "$prefix.old"

if [ "$purge" = no ]; then
  say "tonari removed; kept the configuration in /etc/tonari and the state in /var/lib/tonari (--purge deletes them)"
  exit 0
fi

# ---- purge ----
rm -rf "$etc" "$state_private"
if [ -L "$state_link" ] || [ -d "$state_link" ]; then rm -rf "$state_link"; fi
if [ -z "$root" ]; then
  getent group "$GROUP" >/dev/null && groupdel "$GROUP"
elif [ -f "$root/etc/group" ] && grep -q "^$GROUP:" "$root/etc/group"; then
  groupdel --prefix "$root" "$GROUP"
fi
say "tonari removed, configuration and state purged"
