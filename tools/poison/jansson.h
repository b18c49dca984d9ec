#error "this module must not include <jansson.h> (SPEC section 9: dependencies point one way)"
