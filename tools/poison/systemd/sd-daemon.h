#error "this module must not include <systemd/sd-daemon.h> (SPEC section 9: dependencies point one way)"
