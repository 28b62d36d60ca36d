package dev.jumpgate.agent;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import org.jboss.logging.Logger;

/**
 * Whether the relay holds the tunnel's key to what its authorizedKey line allows: once per session, beside the agent's
 * loop (a relay's shell may be slow), the relay is asked to run a command and to open a connection where no line
 * Jumpgate writes permits one. Each answer stands until a later session's check answers; no answer in time leaves the
 * last one standing (unknown is not safe, but not a change either). Reported as the condition RelayKeyRestricted.
 */
final class KeyRestrictionCheck {

    private static final Logger LOG = Logger.getLogger(KeyRestrictionCheck.class);
    /** Where no key line permits a connection: the check asks for it and expects a refusal. */
    private static final String NOWHERE_PERMITTED = "localhost";
    /** How long the relay has to answer each question. */
    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final Executor CHECKS = Executors.newCachedThreadPool(SshThreads.named("jumpgate-key-check"));

    private final Runnable answered;
    /** The check of the current session; touched only on the agent's thread. */
    private CompletableFuture<Void> running;
    private volatile Boolean runsCommands;
    private volatile Boolean opensAnywhere;
    /** Per jump host of the current session: whether it holds the key to its line; null where unknown. */
    private volatile List<Boolean> jumpHostsRestricted = List.of();

    /** {@code answered} runs (on the check's thread) when an answer came in, so that the next report carries it. */
    KeyRestrictionCheck(Runnable answered) {
        this.answered = answered;
    }

    /** Starts the check of this session unless it runs or ran already; {@link #sessionEnded} allows the next. */
    void startOnce(RelaySession session) {
        if (running != null) {
            return;
        }
        running = CompletableFuture.supplyAsync(() -> {
            checkJumpHosts(session.jumpHostSessions());
            checkOpensNothingElse(session);
            return session.runsCommands(TIMEOUT);
        }, CHECKS).thenAccept(runs -> {
            if (runs == null) {
                return; // no answer in time: what the last session found stands
            }
            if (runs && !Boolean.TRUE.equals(runsCommands)) {
                LOG.warn("the relay runs commands for this tunnel's key: whoever holds the key has a shell there. "
                        + "Install the key with its authorizedKey line (its options forbid commands) or the relay's "
                        + "recommended sshd block");
            }
            runsCommands = runs;
            answered.run();
        });
    }

    /** The session is gone: its check's answer no longer counts, and the next session is checked again. */
    void sessionEnded() {
        if (running != null) {
            running.cancel(false);
        }
        running = null;
    }

    /** Per jump host, first hop first: whether it holds the key to its line (false: a shell or any place there). */
    List<Boolean> jumpHostsRestricted() {
        return jumpHostsRestricted;
    }

    /**
     * The same two questions to each jump host: a hop whose owner pasted the key without its line gives whoever holds
     * the key a shell on the bastion, or a way to everything it reaches.
     */
    private void checkJumpHosts(List<RelaySession> hops) {
        List<Boolean> restricted = new ArrayList<>();
        for (int i = 0; i < hops.size(); i++) {
            Boolean opens = opensWhereNoLinePermits(hops.get(i));
            Boolean runs = hops.get(i).runsCommands(TIMEOUT);
            Boolean verdict = Boolean.TRUE.equals(opens) || Boolean.TRUE.equals(runs) ? Boolean.FALSE
                    : opens == null || runs == null ? null : Boolean.TRUE;
            if (Boolean.FALSE.equals(verdict)) {
                LOG.warnf("jump host %d %s for this tunnel's key: install the key there with its line "
                        + "(status.relay.hops[%d].authorizedKey)", i + 1, Boolean.TRUE.equals(runs)
                        ? "runs commands (a shell for whoever holds the key)" : "opens connections anywhere", i);
            }
            restricted.add(verdict);
        }
        jumpHostsRestricted = List.copyOf(restricted);
    }

    /** Whether the relay runs a command for the key (a shell for whoever holds it); null until known. */
    Boolean runsCommands() {
        return runsCommands;
    }

    /** Whether the relay opened a connection for the key where no line permits one; null until known. */
    Boolean opensAnywhere() {
        return opensAnywhere;
    }

    /**
     * Asks the relay for a connection to {@link #NOWHERE_PERMITTED}, which no key line Jumpgate writes permits: a relay
     * that tries it (refused or not) lets whoever holds the key reach anything the relay reaches.
     */
    private void checkOpensNothingElse(RelaySession session) {
        Boolean opens = opensWhereNoLinePermits(session);
        if (opens == null) {
            return; // no answer: what the last session found stands
        }
        if (opens && !Boolean.TRUE.equals(opensAnywhere)) {
            LOG.warn("the relay opens connections anywhere for this tunnel's key: whoever holds the key reaches what the "
                    + "relay reaches. Install the key with its authorizedKey line (its permitopen options)");
        }
        opensAnywhere = opens;
    }

    /** Whether the host tried a connection to {@link #NOWHERE_PERMITTED}, refused or not; null without an answer. */
    private static Boolean opensWhereNoLinePermits(RelaySession session) {
        try (RelayedConnection opened = session.connectFromRelay(NOWHERE_PERMITTED, 1, TIMEOUT)) {
            return true;
        } catch (RelayedConnection.Refused refused) {
            return switch (refused.kind()) {
                case PROHIBITED -> false;
                case CONNECT_FAILED -> true;
                case TIMEOUT, SESSION_LOST -> null;
            };
        }
    }
}
