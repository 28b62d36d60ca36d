package dev.jumpgate.report;

/**
 * Text from outside our control on its way to a status, an Event or a log: what the relay says when it refuses or
 * disconnects (any bytes its owner, or whoever sits on the path, chose), and what an agent pod writes into its Lease.
 * Bounded in length and stripped of control and format characters (newlines, terminal escapes, bidirectional
 * overrides), so that it can neither flood the API server nor disguise itself in {@code kubectl describe}.
 */
public final class ReportText {

    /** Enough for any message Jumpgate writes itself; a condition message may be 32 KiB, an Event's 1 KiB. */
    public static final int MAX_MESSAGE = 1000;
    /** What the relay says, inside one of our messages. */
    public static final int MAX_RELAY_TEXT = 200;

    private ReportText() {
    }

    /** The exception at the bottom of {@code e}'s causes: the one that says what actually happened. */
    public static Throwable rootCause(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root;
    }

    /** The root cause's message (its class name when it has none), bounded: its words may come from outside. */
    public static String rootMessage(Throwable e, int max) {
        Throwable root = rootCause(e);
        return bounded(root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage(), max);
    }

    public static String bounded(String text, int max) {
        if (text == null) {
            return null;
        }
        StringBuilder clean = new StringBuilder(Math.min(text.length(), max + 1));
        for (int i = 0; i < text.length() && clean.length() <= max; ) {
            int c = text.codePointAt(i);
            int type = Character.getType(c);
            boolean hidden = type == Character.CONTROL || type == Character.FORMAT || type == Character.SURROGATE
                    || type == Character.PRIVATE_USE || type == Character.UNASSIGNED
                    || type == Character.LINE_SEPARATOR || type == Character.PARAGRAPH_SEPARATOR;
            clean.appendCodePoint(hidden ? ' ' : c);
            i += Character.charCount(c);
        }
        if (clean.length() > max) {
            int cut = max - 1;
            if (Character.isHighSurrogate(clean.charAt(cut - 1))) {
                cut--;
            }
            clean.setLength(cut);
            clean.append('…');
        }
        return clean.toString();
    }
}
