#!/usr/bin/env bash
# cmake_install_test.sh BUILD_DIR -- `cmake --install` puts the binary, the
# config file and the systemd unit where the prefix says, the unit names
# those paths, and a second install keeps an edited config (label package).
#
# Two installs into temporary directories (nothing outside them changes):
#   --prefix T/opt          T/opt/{bin,etc/authstore,lib/systemd/system}
#   DESTDIR=T/stage --prefix /usr (what CPack does for the .deb)
#                           T/stage/{usr/bin,etc/authstore,lib/systemd/system}
set -euo pipefail

build=${1:?usage: cmake_install_test.sh BUILD_DIR}
cmake=${CMAKE_COMMAND:-cmake}
work=$(mktemp -d /tmp/authstore-install-test-XXXXXX)
trap 'rm -rf "$work"' EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# expect_unit UNIT BINARY CONF SECRET: the unit's ExecStart and
# LoadCredential lines name these paths.
expect_unit() {
  local unit=$1 bin=$2 conf=$3 secret=$4
  [ -f "$unit" ] || fail "no unit at $unit"
  grep -qxF "ExecStart=$bin serve --config $conf --secret-file %d/secret" "$unit" \
    || fail "$unit: ExecStart is '$(grep '^ExecStart=' "$unit")'"
  grep -qxF "LoadCredential=secret:$secret" "$unit" \
    || fail "$unit: LoadCredential is '$(grep '^LoadCredential=' "$unit")'"
  ! grep -q '@[A-Z_]*@' "$unit" || fail "$unit has unfilled @names@"
}

echo "-- cmake --install --prefix $work/opt"
p=$work/opt
"$cmake" --install "$build" --prefix "$p" >"$work/install.log" 2>&1 \
  || { cat "$work/install.log"; fail "cmake --install failed"; }
[ -x "$p/bin/authstore" ] || fail "no $p/bin/authstore"
expect_unit "$p/lib/systemd/system/authstore.service" "$p/bin/authstore" \
  "$p/etc/authstore/authstore.conf" "$p/etc/authstore/secret"
"$p/bin/authstore" config --example | cmp -s - "$p/etc/authstore/authstore.conf" \
  || fail "the installed config is not \`authstore config --example\`"
cmp -s "$p/etc/authstore/authstore.conf" "$p/share/doc/authstore/examples/authstore.conf" \
  || fail "no example config in share/doc/authstore/examples"
[ -f "$p/share/doc/authstore/README.md" ] || fail "no README in share/doc/authstore"

echo "-- a second install keeps an edited config"
echo "redis.pool-size = 4" >>"$p/etc/authstore/authstore.conf"
"$cmake" --install "$build" --prefix "$p" >"$work/install2.log" 2>&1 \
  || { cat "$work/install2.log"; fail "the second cmake --install failed"; }
tail -n 1 "$p/etc/authstore/authstore.conf" | grep -qxF "redis.pool-size = 4" \
  || fail "the second install replaced the edited config"
grep -q "Kept (exists): $p/etc/authstore/authstore.conf" "$work/install2.log" \
  || fail "the second install did not say it kept the config"

echo "-- DESTDIR=$work/stage cmake --install --prefix /usr"
s=$work/stage
DESTDIR=$s "$cmake" --install "$build" --prefix /usr >"$work/stage.log" 2>&1 \
  || { cat "$work/stage.log"; fail "the staged install failed"; }
[ -x "$s/usr/bin/authstore" ] || fail "no $s/usr/bin/authstore"
[ -f "$s/etc/authstore/authstore.conf" ] || fail "no $s/etc/authstore/authstore.conf"
expect_unit "$s/lib/systemd/system/authstore.service" /usr/bin/authstore \
  /etc/authstore/authstore.conf /etc/authstore/secret
echo PASS
