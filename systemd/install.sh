#!/bin/sh
# Installs (or upgrades) tonari from this checkout as a systemd service on Debian or
# Raspberry Pi OS:
#   /opt/tonari                    the compiled agent with its production dependencies
#   /usr/local/bin/tonari          the command line
#   /etc/tonari/tonari.yaml        created by `tonari init` when missing, otherwise kept
#   /etc/systemd/system/tonari.service
#   group tonari-config            may read /etc/tonari (the service is a member)
# The configuration is checked with the new program before anything is replaced: a
# configuration the new version rejects leaves the installed one running (exit 78).
# Running it again upgrades the program and keeps the configuration and the state.
# See docs/service.md.
set -eu

usage() {
  cat <<'EOF'
usage: sudo systemd/install.sh [--no-start] [--no-build] [--node PATH] [--root DIR]

  --no-start   install and enable, but do not (re)start the service
  --no-build   use dist/ as it is (built already with `npm run build`)
  --node PATH  the Node.js (>= 20) the service runs (default: `command -v node`);
               it must not live under /home or /root (ProtectHome= hides those)
  --root DIR   install into DIR instead of / (an image, a test); systemctl is not run
EOF
}

say() { printf 'install: %s\n' "$*"; }
die() { code=$1; shift; printf 'install: %s\n' "$*" >&2; exit "$code"; }

start=yes build=yes node='' root=''
while [ $# -gt 0 ]; do
  case $1 in
    --no-start) start=no ;;
    --no-build) build=no ;;
    --node) [ $# -ge 2 ] || die 64 "--node needs a path"; node=$2; shift ;;
    --node=*) node=${1#--node=} ;;
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

src=$(cd "$(dirname "$0")/.." && pwd)
GROUP=tonari-config
prefix=$root/opt/tonari
etc=$root/etc/tonari
config=$etc/tonari.yaml
unit=$root/etc/systemd/system/tonari.service
wrapper=$root/usr/local/bin/tonari

# ---- the Node.js the service runs ----
if [ -z "$node" ]; then
  node=$(command -v node) || die 69 "Node.js >= 20 is required (apt-get install nodejs, or NodeSource)"
fi
node=$(readlink -f "$node") || die 69 "no such file: $node"
[ -x "$node" ] || die 69 "not executable: $node"
case $node in
  /home/*|/root/*|/run/user/*) die 69 "$node is under a home directory, which the service cannot see (ProtectHome=yes); install Node.js system-wide or pass --node" ;;
  /tmp/*|/var/tmp/*) die 69 "$node is under a temporary directory, which the service cannot see (PrivateTmp=yes)" ;;
esac
major=$("$node" -p 'process.versions.node.split(".")[0]') || die 69 "$node does not run"
[ "$major" -ge 20 ] || die 69 "Node.js >= 20 is required, $node is $("$node" --version)"
command -v npm >/dev/null || die 69 "npm is required (it comes with Node.js)"

# ---- build in the checkout (dev dependencies stay there) ----
if [ "$build" = yes ]; then
  say "building in $src"
  (cd "$src" && { [ -x node_modules/.bin/tsc ] || npm ci --no-audit --no-fund; } && npm run build) >&2 \
    || die 70 "the build failed"
fi
[ -f "$src/dist/agent/cli/bin.js" ] || die 66 "no build in $src/dist (run npm run build, or drop --no-build)"

# ---- stage the new program next to the old one (same file system: the swap is a rename) ----
mkdir -p "$root/opt"
stage=$prefix.new
rm -rf "$stage"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/dist" "$stage/docs"
cp -R "$src/dist/agent" "$src/dist/broker" "$stage/dist/"
cp "$src/package.json" "$src/package-lock.json" "$src/README.md" "$stage/"
[ -d "$src/docs" ] && cp -R "$src/docs/." "$stage/docs/"
# Files the program reads at run time beside its code (built-in register profiles).
(cd "$src" && find agent broker -type f ! -name '*.ts') | while IFS= read -r file; do
  mkdir -p "$stage/$(dirname "$file")"
  cp "$src/$file" "$stage/$file"
done
say "installing production dependencies"
# --ignore-scripts: the package's own prepare (tsc) must not run here; the one native
# dependency is rebuilt explicitly (it picks a shipped prebuild when there is one).
(cd "$stage" && PATH=$(dirname "$node"):$PATH npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline \
  && PATH=$(dirname "$node"):$PATH npm rebuild @serialport/bindings-cpp) >&2 || die 70 "npm ci failed in $stage"
find "$stage" -exec chmod go-w {} +
tonari_new() { "$node" "$stage/dist/agent/cli/bin.js" "$@"; }

# ---- the group that may read the configuration ----
if [ -z "$root" ]; then
  getent group "$GROUP" >/dev/null || groupadd --system "$GROUP"
  gid=$(getent group "$GROUP" | cut -d: -f3)
else
  [ -f "$root/etc/group" ] || die 66 "$root/etc/group is missing (--root needs the image's /etc/group)"
  grep -q "^$GROUP:" "$root/etc/group" || groupadd --prefix "$root" --system "$GROUP"
  gid=$(awk -F: -v g="$GROUP" '$1 == g { print $3 }' "$root/etc/group")
fi
[ -n "$gid" ] || die 70 "group $GROUP could not be created"

# ---- configuration: created when missing, never overwritten; root:tonari-config 0640 (CFG-1) ----
mkdir -p "$etc"
chown "0:$gid" "$etc"
chmod 0750 "$etc"
if [ ! -e "$config" ]; then
  tonari_new init "$config" >&2
  say "created $config: edit it (devices, mesh, trust), then: tonari check $config && systemctl restart tonari"
else
  say "keeping $config"
fi
chown "0:$gid" "$config"
chmod 0640 "$config"
if ! tonari_new check "$config" >&2; then
  die 78 "$config does not pass \`tonari check\` with the new version; nothing was replaced"
fi

# ---- swap the program in ----
if [ -d "$prefix" ]; then
  rm -rf "$prefix.old"
  mv "$prefix" "$prefix.old"
fi
mv "$stage" "$prefix"
trap - EXIT
rm -rf "$prefix.old"
say "installed $(cd "$prefix" && "$node" -p 'require("./package.json").version') in /opt/tonari"

mkdir -p "$(dirname "$wrapper")"
rm -f "$wrapper"
cat >"$wrapper" <<EOF
#!/bin/sh
# tonari command line, installed by systemd/install.sh
exec $node /opt/tonari/dist/agent/cli/bin.js "\$@"
EOF
chmod 0755 "$wrapper"

# ---- the unit, with ExecStart pointing at this node ----
mkdir -p "$(dirname "$unit")"
sed "s#^ExecStart=/usr/bin/node #ExecStart=$node #" "$src/systemd/tonari.service" >"$unit.tmp"
chmod 0644 "$unit.tmp"
mv "$unit.tmp" "$unit"

# ---- systemd ----
if [ -n "$root" ]; then
  say "--root given: systemctl not run; on the target: systemctl daemon-reload && systemctl enable --now tonari"
elif [ ! -d /run/systemd/system ]; then
  say "systemd is not running here (not PID 1): systemctl not run; once it is: systemctl daemon-reload && systemctl enable --now tonari"
else
  systemctl daemon-reload
  systemctl enable tonari.service >&2
  if [ "$start" = yes ]; then
    systemctl restart tonari.service
    say "tonari (re)started; logs: journalctl -u tonari -f; status: systemctl status tonari"
  else
    say "enabled, not started (--no-start): systemctl start tonari"
  fi
fi
