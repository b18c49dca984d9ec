#error "this module must not include <uv.h> (SPEC section 9: dependencies point one way)"
