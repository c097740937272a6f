# console/local.mk: the web console -- TypeScript (Preact) sources in
# console/src, built by esbuild into a flat directory of files that
# ics-managerd serves at /console/ (docs/console.md).
#
# The build never writes to the source tree (distcheck's srcdir is
# read-only): package.json, package-lock.json and build.mjs are copied to
# $(builddir)/console, `npm ci` installs the locked packages there, tsc
# checks the types of $(srcdir)/console/src, and build.mjs writes
# console/dist.  The stamp depends on every source, so a change rebuilds.
# console/tests/browser.test drives Chromium through the built console
# against a real ics-managerd; console/tests/cts.mjs does it on the lab
# (the CTS scenario console-browser); console/tests/lib.mjs is theirs.

CONSOLE_SRC = \
	console/src/index.html \
	console/src/app.css \
	console/src/main.tsx \
	console/src/api.ts \
	console/src/events.ts \
	console/src/router.ts \
	console/src/session.ts \
	console/src/ui.tsx \
	console/src/types.d.ts \
	console/src/pages/access.tsx \
	console/src/pages/audit.tsx \
	console/src/pages/backups.tsx \
	console/src/pages/dashboard.tsx \
	console/src/pages/drs.tsx \
	console/src/pages/hosts.tsx \
	console/src/pages/login.tsx \
	console/src/pages/pools.tsx \
	console/src/pages/tasks.tsx \
	console/src/pages/vm.tsx \
	console/src/pages/vm_console.tsx \
	console/src/pages/vm_create.tsx \
	console/src/pages/vm_list.tsx

CONSOLE_FILES = $(CONSOLE_SRC) \
	console/package.json \
	console/package-lock.json \
	console/tsconfig.json \
	console/build.mjs \
	console/tests/browser.test \
	console/tests/browser.mjs \
	console/tests/cts.mjs \
	console/tests/lib.mjs

EXTRA_DIST += $(CONSOLE_FILES) docs/console.md docs/console-dashboard.png
TESTS += console/tests/browser.test

consoledir = $(datadir)/ics/console
all-local: console-all
install-data-local: install-console
uninstall-local: uninstall-console
clean-local: clean-console

if ENABLE_CONSOLE
console-all: console/dist.stamp

# npm ci again only when the lockfile changes.
console/node_modules.stamp: $(srcdir)/console/package.json $(srcdir)/console/package-lock.json
	@$(MKDIR_P) console
	@if test "$(srcdir)" != "."; then \
		cp -f $(srcdir)/console/package.json $(srcdir)/console/package-lock.json console/ && \
		chmod u+w console/package.json console/package-lock.json; fi
	@echo "  NPM      console (npm ci)"
	@cd console && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 $(NPM) ci --no-audit --no-fund --loglevel=error >npm-ci.log 2>&1 || \
		{ cat npm-ci.log; exit 1; }
	@touch $@

console/dist.stamp: console/node_modules.stamp $(CONSOLE_SRC) $(srcdir)/console/build.mjs $(srcdir)/console/tsconfig.json
	@if test "$(srcdir)" != "."; then cp -f $(srcdir)/console/build.mjs console/ && chmod u+w console/build.mjs; fi
	@abs_src=`cd $(srcdir)/console && pwd`; \
	printf '{ "extends": "%s/tsconfig.json", "compilerOptions": { "paths": { "*": ["./node_modules/*"] } }, "include": ["%s/src"] }\n' \
		"$$abs_src" "$$abs_src" >console/tsconfig.build.json
	@echo "  TSC      console"
	@cd console && node_modules/.bin/tsc -p tsconfig.build.json
	@echo "  ESBUILD  console/dist"
	@abs_src=`cd $(srcdir)/console && pwd`; cd console && \
		$(NODE) build.mjs --src "$$abs_src/src" --out dist --modules node_modules
	@touch $@

install-console: console/dist.stamp
	$(MKDIR_P) '$(DESTDIR)$(consoledir)'
	for f in console/dist/*; do $(INSTALL_DATA) "$$f" '$(DESTDIR)$(consoledir)' || exit 1; done

uninstall-console:
	rm -rf '$(DESTDIR)$(consoledir)'

clean-console:
	-rm -rf console/dist console/dist.stamp console/tsconfig.build.json console/screenshots
	-test "$(srcdir)" = "." || rm -rf console/node_modules console/node_modules.stamp console/npm-ci.log \
		console/package.json console/package-lock.json console/build.mjs

# The daemon's default [manager] console_dir (manager/local.mk).
CONSOLE_CPPFLAGS = -DICS_CONSOLE_DEFAULT_DIR='"$(consoledir)"'
else
console-all install-console uninstall-console clean-console:
CONSOLE_CPPFLAGS =
endif

.PHONY: console-all clean-console install-console uninstall-console
