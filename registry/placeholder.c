/* Placeholder so the library has a source until the module lands; delete it then. */
extern int zk_registry_placeholder;
int zk_registry_placeholder;
