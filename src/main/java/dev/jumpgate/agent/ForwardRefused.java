package dev.jumpgate.agent;

/** The relay would not listen for a forward; the session and the other forwards are fine. */
final class ForwardRefused extends Exception {
    ForwardRefused(String message) {
        super(message);
    }
}
