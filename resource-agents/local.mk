# resource-agents/local.mk: OCF agents in C (vm, pool, net, manager), linked
# with lib/libics.la and installed under $(prefix)/lib/ocf/resource.d/ics.
# Placeholder: no agent yet.
EXTRA_DIST += resource-agents/README.md
