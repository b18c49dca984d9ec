#error "this module must not include <ares.h> (SPEC section 9: dependencies point one way)"
