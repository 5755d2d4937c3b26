import Testing

/// The heavy edge tests (thousands of sockets each): nested suites in extensions of this one, run one
/// at a time so they never share the process's 20,000-descriptor budget or each other's CPU.
@Suite("Edge load", .serialized)
struct EdgeLoadTests {}
