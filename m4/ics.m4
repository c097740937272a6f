# ics.m4: configure macros shared by the ICS build.

# ICS_REQUIRE_PKG(VAR, MODULE, DEBIAN-PACKAGE)
# -------------------------------------------
# Look MODULE up with pkg-config and set VAR_CFLAGS / VAR_LIBS.  When it is
# missing, stop and name the Debian package that provides it, so that a fresh
# machine is one apt-get away from building.
AC_DEFUN([ICS_REQUIRE_PKG], [
	PKG_CHECK_MODULES([$1], [$2], [], [
		AC_MSG_ERROR([m4_bpatsubst([$2], [ .*], []) not found: install the Debian package $3 (apt-get install $3)])
	])
])

# ICS_CHECK_CFLAG(FLAG, [ACTION-IF-OK], [ACTION-IF-NOT])
# ------------------------------------------------------
# Check that the C compiler accepts FLAG (with warnings as errors so an
# unknown -W option is rejected rather than ignored).
AC_DEFUN([ICS_CHECK_CFLAG], [
	AS_VAR_PUSHDEF([ics_cv], [ics_cv_cflag_$1])
	AC_CACHE_CHECK([whether $CC accepts $1], [ics_cv], [
		ics_save_CFLAGS="$CFLAGS"
		ics_save_LDFLAGS="$LDFLAGS"
		CFLAGS="$CFLAGS -Werror $1"
		LDFLAGS="$LDFLAGS $1"
		AC_LINK_IFELSE([AC_LANG_PROGRAM([], [])],
			[AS_VAR_SET([ics_cv], [yes])], [AS_VAR_SET([ics_cv], [no])])
		CFLAGS="$ics_save_CFLAGS"
		LDFLAGS="$ics_save_LDFLAGS"
	])
	AS_VAR_IF([ics_cv], [yes], [$2], [$3])
	AS_VAR_POPDEF([ics_cv])
])
