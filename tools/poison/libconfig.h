#error "this module must not include <libconfig.h> (SPEC section 9: dependencies point one way)"
