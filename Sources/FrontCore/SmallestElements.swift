/// The `capacity` smallest elements offered, by an ordering: what a page of a sorted listing needs,
/// kept in a max-heap so that offering n elements costs O(n log capacity) time and O(capacity) memory
/// instead of sorting all n. `GET /sessions` selects each event loop's share of a page with it.
/// A value type; use it on one thread at a time.
public struct SmallestElements<Element> {
    /// How many elements are kept at most.
    public let capacity: Int
    /// A max-heap: the largest kept element at index 0.
    private var heap: [Element] = []
    private let areInIncreasingOrder: (Element, Element) -> Bool

    /// Keeps at most `capacity` (at least 0) elements, smallest by `areInIncreasingOrder`.
    public init(capacity: Int, by areInIncreasingOrder: @escaping (Element, Element) -> Bool) {
        self.capacity = max(0, capacity)
        self.areInIncreasingOrder = areInIncreasingOrder
        heap.reserveCapacity(min(self.capacity, 1024))
    }

    /// How many are kept now.
    public var count: Int { heap.count }

    /// Keeps `element` if it is among the `capacity` smallest offered so far.
    public mutating func offer(_ element: Element) {
        if heap.count < capacity {
            heap.append(element)
            siftUp(heap.count - 1)
        } else if capacity > 0, areInIncreasingOrder(element, heap[0]) {
            heap[0] = element
            siftDown(0)
        }
    }

    /// The kept elements, smallest first.
    public func sorted() -> [Element] {
        heap.sorted(by: areInIncreasingOrder)
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard areInIncreasingOrder(heap[parent], heap[child]) else { return }
            heap.swapAt(parent, child)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            var largest = parent
            let left = 2 * parent + 1
            let right = left + 1
            if left < heap.count, areInIncreasingOrder(heap[largest], heap[left]) { largest = left }
            if right < heap.count, areInIncreasingOrder(heap[largest], heap[right]) { largest = right }
            guard largest != parent else { return }
            heap.swapAt(parent, largest)
            parent = largest
        }
    }
}
