#error "this module must not include <ldns/ldns.h> (SPEC section 9: dependencies point one way)"
