#!/bin/sh
# Installs tonari from this checkout into /opt/tonari and enables the service.
# Run as root on the gateway: sudo ./systemd/install.sh
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
prefix=/opt/tonari
command -v node >/dev/null || { echo "install: Node.js >= 20 is required" >&2; exit 1; }
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 20 ] || { echo "install: Node.js >= 20 is required, found $(node --version)" >&2; exit 1; }

mkdir -p "$prefix"
cp -a "$src/package.json" "$src/package-lock.json" "$src/tsconfig.json" "$src/tsconfig.build.json" "$src/agent" "$src/broker" "$src/README.md" "$prefix/"
mkdir -p "$prefix/test" && cp -a "$src/test/bench" "$prefix/test/" 2>/dev/null || true
(cd "$prefix" && npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund)
install -m 0644 "$src/systemd/tonari.service" /etc/systemd/system/tonari.service
mkdir -p /etc/tonari && chmod 0750 /etc/tonari
if [ ! -f /etc/tonari/tonari.yaml ]; then
  node "$prefix/dist/agent/cli/bin.js" init /etc/tonari/tonari.yaml
fi
node "$prefix/dist/agent/cli/bin.js" check /etc/tonari/tonari.yaml
ln -sf "$prefix/dist/agent/cli/bin.js" /usr/local/bin/tonari
systemctl daemon-reload
systemctl enable --now tonari.service
echo "tonari installed; logs: journalctl -u tonari -f"
