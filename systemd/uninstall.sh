#!/bin/sh
# Stops and removes the tonari service and program. Keeps /etc/tonari and
# /var/lib/tonari (keys and ledger) unless --purge is given.
set -eu
systemctl disable --now tonari.service 2>/dev/null || true
rm -f /etc/systemd/system/tonari.service /usr/local/bin/tonari
systemctl daemon-reload 2>/dev/null || true
rm -rf /opt/tonari
if [ "${1:-}" = "--purge" ]; then
  rm -rf /etc/tonari /var/lib/tonari /var/lib/private/tonari
  echo "tonari removed, configuration and state purged"
else
  echo "tonari removed; configuration in /etc/tonari and state in /var/lib/tonari kept (use --purge to delete)"
fi
