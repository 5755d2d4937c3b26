#!/usr/bin/env bash
# Builds the Debian package: build/brokerfront_VERSION_ARCH.deb (`make deb`).
#
# Contents: /usr/bin/brokerfront (release, static Swift stdlib, stripped), the systemd unit, the
# sysctl.d file, the sysusers.d account, /etc/brokerfront/brokerfront.yaml (a conffile with
# placeholder servers), the man page (argument-parser's generate-manual plugin) and bash, zsh and
# fish completions (`brokerfront --generate-completion-script`).
#
#   scripts/make-deb.sh                 # builds the binary unless BROKERFRONT_BINARY names one
#   lintian build/brokerfront_*.deb     # what CI runs (scripts/deploy-checks.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/opt/swift/usr/bin"

binary="${BROKERFRONT_BINARY:-}"
if [ -z "$binary" ]; then
    swift build -c release --static-swift-stdlib --product brokerfront
    binary="$(swift build -c release --show-bin-path)/brokerfront"
fi
version=$("$binary" --version)
arch=$(dpkg --print-architecture)
# Reproducible: every date and mtime is the last commit's.
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}"
date_rfc2822=$(date -u -R -d "@$SOURCE_DATE_EPOCH")

work=.build-deb
root="$work/root"
rm -rf "$work"
mkdir -p "$root/DEBIAN" build

install -D -m 0755 "$binary" "$root/usr/bin/brokerfront"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/usr/bin/brokerfront"
install -D -m 0644 config/brokerfront.service "$root/lib/systemd/system/brokerfront.service"
install -D -m 0644 config/sysctl.d/60-brokerfront.conf "$root/usr/lib/sysctl.d/60-brokerfront.conf"
install -D -m 0644 config/sysusers.d/brokerfront.conf "$root/usr/lib/sysusers.d/brokerfront.conf"
install -D -m 0644 config/brokerfront.yaml "$root/etc/brokerfront/brokerfront.yaml"

# The man page from the command's own help (every subcommand in one page).
manual=.build/plugins/GenerateManual/outputs/brokerfront
rm -rf "$manual"
swift package generate-manual --configuration debug \
    --date "$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%d)" --section 1 \
    --authors "brokerfront developers" >/dev/null
mkdir -p "$root/usr/share/man/man1"
for page in "$manual"/*.1; do
    gzip -9n <"$page" >"$root/usr/share/man/man1/$(basename "$page").gz"
done

# bash-completion files are sourced, not run: no #! line.
"$binary" --generate-completion-script bash | sed '1{/^#!/d}' \
    | install -D -m 0644 /dev/stdin "$root/usr/share/bash-completion/completions/brokerfront"
"$binary" --generate-completion-script zsh | install -D -m 0644 /dev/stdin "$root/usr/share/zsh/vendor-completions/_brokerfront"
"$binary" --generate-completion-script fish | install -D -m 0644 /dev/stdin "$root/usr/share/fish/vendor_completions.d/brokerfront.fish"

doc="$root/usr/share/doc/brokerfront"
mkdir -p "$doc"
cat >"$doc/copyright" <<'EOF'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: brokerfront
Comment: Built from the brokerfront repository; the binary links swift-nio, swift-nio-ssl
 (BoringSSL), Hummingbird, Yams, swift-argument-parser, swift-log, swift-metrics,
 swift-prometheus and swift-service-lifecycle statically, and the Swift runtime.

Files: *
Copyright: 2025-2026 brokerfront developers
License: Apache-2.0

License: Apache-2.0
 On Debian systems, the full text of the Apache License, Version 2.0 can be
 found in the file `/usr/share/common-licenses/Apache-2.0'.
EOF
printf 'brokerfront (%s) unstable; urgency=medium\n\n  * Release %s.\n\n -- brokerfront developers <brokerfront@localhost.invalid>  %s\n' \
    "$version" "$version" "$date_rfc2822" | gzip -9n >"$doc/changelog.gz"

# Shared-library dependencies, as dpkg-shlibdeps finds them in the binary.
shlibs_dir="$work/shlibs"
mkdir -p "$shlibs_dir/debian"
printf 'Source: brokerfront\n\nPackage: brokerfront\nArchitecture: any\n' >"$shlibs_dir/debian/control"
depends=$(cd "$shlibs_dir" && dpkg-shlibdeps -O "$OLDPWD/$root/usr/bin/brokerfront" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')

cat >"$root/DEBIAN/control" <<EOF
Package: brokerfront
Version: $version
Architecture: $arch
Maintainer: brokerfront developers <brokerfront@localhost.invalid>
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Depends: $depends, adduser
Section: net
Priority: optional
Description: MQTT-aware TCP front for brokers and other TCP backends
 brokerfront accepts MQTT clients, reads each CONNECT and routes the session
 to a broker by client id (consistent across replicas), with health checks,
 failover, draining, PROXY protocol, TLS termination and a Prometheus
 metrics and status endpoint. Plain TCP backends (Redis) are served too.
EOF
echo /etc/brokerfront/brokerfront.yaml >"$root/DEBIAN/conffiles"
# The binary is linked statically against its Swift dependencies, one of which (Yams) compiles
# libyaml's C sources in: there is no shared libyaml to use instead.
install -D -m 0644 /dev/stdin "$root/usr/share/lintian/overrides/brokerfront" <<'EOF'
# Yams (the YAML parser, linked statically like every Swift dependency) compiles libyaml in.
brokerfront: embedded-library libyaml [usr/bin/brokerfront]
EOF

cat >"$root/DEBIAN/postinst" <<'EOF'
#!/bin/sh
set -e
if [ "$1" = "configure" ]; then
    # The account from /usr/lib/sysusers.d/brokerfront.conf.
    if command -v systemd-sysusers >/dev/null 2>&1; then
        systemd-sysusers brokerfront.conf
    elif ! getent passwd brokerfront >/dev/null; then
        adduser --system --group --no-create-home --home /nonexistent brokerfront
    fi
    chgrp brokerfront /etc/brokerfront/brokerfront.yaml
    chmod 0640 /etc/brokerfront/brokerfront.yaml
fi
if [ -d /run/systemd/system ]; then
    systemctl --system daemon-reload >/dev/null || true
fi
EOF
cat >"$root/DEBIAN/postrm" <<'EOF'
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then
    systemctl --system daemon-reload >/dev/null || true
fi
EOF
chmod 0755 "$root/DEBIAN/postinst" "$root/DEBIAN/postrm"

find "$root" -exec touch --no-dereference --date="@$SOURCE_DATE_EPOCH" {} +
package="build/brokerfront_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$package" >/dev/null
echo "$package"
