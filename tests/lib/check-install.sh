#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# make install as a user of the library meets it: install the build into a
# temporary DESTDIR under a prefix of its own, then build install_smoke.c
# with nothing but pkg-config --cflags --libs mpnet (pointed into the
# DESTDIR), run it against the installed libmpnet.so, and link it once more
# against libmpnet.a with pkg-config --static, which holds Libs.private and
# Requires.private to account. The installed mpnet-demo must run too.
#
# usage: check-install.sh BUILD_DIR SOURCE_DIR LIBDIR CC [CFLAGS...]
#   LIBDIR is CMAKE_INSTALL_LIBDIR (relative to the prefix, or absolute).
set -eu
build=$1 src=$2 libdir=$3 cc=$4
shift 4
prefix=/opt/mpnet-install-test
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/dest
case $libdir in /*) ;; *) libdir=$prefix/$libdir ;; esac

DESTDIR=$dest cmake --install "$build" --prefix "$prefix" >"$tmp/install.log"
for f in "$libdir/libmpnet.so" "$libdir/libmpnet.a" "$libdir/pkgconfig/mpnet.pc" \
	"$prefix/include/mpnet/export.h" "$prefix/include/mpnet/stack.h" \
	"$prefix/include/mpnet/wire/ipv4.h" "$prefix/bin/mpgen" "$prefix/bin/mpnet-demo" \
	"$prefix/share/doc/mpnet/LICENSE"; do
	[ -e "$dest$f" ] || { echo "check-install: $f not installed"; exit 1; }
done
grep -q "^prefix=$prefix\$" "$dest$libdir/pkgconfig/mpnet.pc" ||
	{ echo "check-install: mpnet.pc does not name the prefix $prefix"; exit 1; }

export PKG_CONFIG_PATH="$dest$libdir/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$dest"
cflags=$(pkg-config --cflags mpnet)
libs=$(pkg-config --libs mpnet)
echo "check-install: pkg-config --cflags --libs mpnet: $cflags $libs"
# -std=c11 without GNU extensions: the public headers must not need them.
"$cc" -std=c11 -Wall -Wextra -Werror "$@" $cflags -o "$tmp/smoke" "$src/tests/lib/install_smoke.c" $libs
LD_LIBRARY_PATH="$dest$libdir" "$tmp/smoke"
# Nothing from the build tree: the program found the installed library.
LD_LIBRARY_PATH="$dest$libdir" ldd "$tmp/smoke" | grep -q "$dest$libdir/libmpnet.so" ||
	{ echo "check-install: smoke did not load the installed libmpnet.so"; exit 1; }

# The same program on libmpnet.a: -lmpnet names the archive (-l:libmpnet.a).
slibs=$(pkg-config --static --libs mpnet | sed 's/-lmpnet /-l:libmpnet.a /')
"$cc" -std=c11 -Wall -Wextra -Werror "$@" $cflags -o "$tmp/smoke-static" "$src/tests/lib/install_smoke.c" $slibs
"$tmp/smoke-static"

"$dest$prefix/bin/mpnet-demo" --virtual -c 3 -q
echo "check-install: installed, built and ran against $dest$prefix"
