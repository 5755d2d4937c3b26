extension FrontProxy {
    /// Bytes the connections of listener `name` whose CONNECT is still arriving hold now, counted
    /// against its `limits.max_pending_connect_bytes`; nil for a listener not bound. Any thread.
    public func pendingConnectBytes(listener name: String) -> Int? {
        let slot = state.withLockedValue { $0.listeners.first { $0.binding.name == name }?.slot }
        return slot?.current.pendingConnect.current
    }
}
