import FrontSession

/// The session's close reasons are the session machine's (``FrontSession/CloseReason``), under
/// the name the data path always used.
public typealias CloseReason = FrontSession.CloseReason
