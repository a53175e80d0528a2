import Dispatch
import Foundation

/// The child processes a command starts and waits for (a sweep's trials on the local pool, `train --parallel`'s
/// seeds), and the signals that stop them. Foundation's `Process` starts every child in a process group of its own, so
/// a terminal's Ctrl-C reaches this process alone; while `forwardingSignals` runs, SIGINT, SIGTERM and SIGHUP are
/// caught and passed on to the group of every child started with `start` that is still running. Such a child ends as
/// a signalled `train` does: its run interrupted, to be resumed. They stay caught for the rest of the process (Dispatch
/// on Linux keeps its handler): outside `forwardingSignals` they end it at once, with exit status 128 + the signal.
public final class ChildProcesses: @unchecked Sendable {
    /// The one instance: signal handlers belong to the process.
    public static let shared = ChildProcesses()

    /// The signals passed on.
    static let signals = [SIGINT, SIGTERM, SIGHUP]

    private let lock = NSLock()
    private var sources: [DispatchSourceSignal] = []
    private var forwarding = false
    private var running: [Process] = []
    /// The first signal caught while forwarding, and how many children were running then.
    private var caught: (signal: Int32, children: Int)?
    /// What a signal outside `forwardingSignals` prints before it ends the process, nil for nothing.
    private var notice: (@Sendable () -> String?)?

    private init() {}

    /// Runs `body`, which starts children with `start` and waits for them, with the signals passed on to them.
    public func forwardingSignals<T>(_ body: () throws -> T) throws -> T {
        lock.withLock {
            precondition(!forwarding, "forwardingSignals does not nest")
            catchSignals()
            (forwarding, running, caught) = (true, [], nil)
        }
        defer { lock.withLock { (forwarding, running) = (false, []) } }
        return try body()
    }

    /// Catches the signals from now on: outside `forwardingSignals` they still end the process at once, but first
    /// print `interrupted: NOTICE` when `notice` gives one (e.g. how to resume the run that was training).
    public func endingWithNotice(_ notice: @escaping @Sendable () -> String?) {
        lock.withLock {
            catchSignals()
            self.notice = notice
        }
    }

    /// Installs the signals' handlers, once (called with the lock held).
    private func catchSignals() {
        guard sources.isEmpty else { return }
        sources = Self.signals.map { signal in
            let source = DispatchSource.makeSignalSource(signal: signal, queue: .global())
            source.setEventHandler { self.received(signal) }
            source.resume()
            return source
        }
    }

    /// Starts `process` and returns true, or returns false without starting it once a signal has been caught.
    public func start(_ process: Process) throws -> Bool {
        try lock.withLock {
            guard caught == nil else { return false }
            // The child inherits this thread's signal mask, and a process started from a Dispatch thread (a test's)
            // has these signals blocked: unblocked, so that they reach the child when passed on.
            var signals = sigset_t()
            sigemptyset(&signals)
            for signal in Self.signals { sigaddset(&signals, signal) }
            pthread_sigmask(SIG_UNBLOCK, &signals, nil)
            try process.run()
            running.append(process)
            return true
        }
    }

    /// When a signal has been caught: waits for `children` (it was passed on to them) and throws `Interrupted` with
    /// `message`, given the number of children that were running when it came.
    public func stopIfSignalled(waitingFor children: [Process], _ message: (Int) throws -> String) throws {
        guard let caught = lock.withLock({ caught }) else { return }
        for child in children { child.waitUntilExit() }
        throw Interrupted(signal: caught.signal, message: try message(caught.children))
    }

    /// Passes `signal` on to the running children while forwarding; ends the process otherwise.
    private func received(_ signal: Int32) {
        lock.withLock {
            guard forwarding else {
                if let line = notice?() {
                    // on a terminal, over the progress line the signal cut short
                    let clear = isatty(STDERR_FILENO) != 0 ? "\r\u{1B}[K" : ""
                    FileHandle.standardError.write(Data("\(clear)interrupted: \(line)\n".utf8))
                }
                _exit(128 + signal)
            }
            running.removeAll { !$0.isRunning }
            caught = caught ?? (signal, running.count)
            for child in running { kill(-child.processIdentifier, signal) }
        }
    }
}

/// A command stopped by a signal once its children had stopped: `tradesim` prints `interrupted: MESSAGE` and exits with
/// 128 + the signal (130 for SIGINT, 143 for SIGTERM), as a shell reports a process the signal ended.
public struct Interrupted: Error, CustomStringConvertible {
    public let signal: Int32
    public let message: String
    public var description: String { "interrupted: " + message }
    public var exitCode: Int32 { 128 + signal }
}
