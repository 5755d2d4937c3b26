import Testing

@testable import FrontControl

@Suite("Admin token")
struct AdminTokenTests {
    @Test("only the exact `Bearer <token>` header matches")
    func matching() {
        #expect(AdminToken.matches("Bearer s3cret", token: "s3cret"))
        #expect(!AdminToken.matches(nil, token: "s3cret"))
        #expect(!AdminToken.matches("", token: "s3cret"))
        #expect(!AdminToken.matches("Bearer s3cre", token: "s3cret"))
        #expect(!AdminToken.matches("Bearer s3cretX", token: "s3cret"))
        #expect(!AdminToken.matches("bearer s3cret", token: "s3cret"))
        #expect(!AdminToken.matches("s3cret", token: "s3cret"))
    }

    @Test("a replaced token is the one in force")
    func replacing() {
        let token = AdminToken("old")
        #expect(token.current == "old")
        token.replace(with: "new")
        #expect(token.current == "new")
        token.replace(with: nil)
        #expect(token.current == nil)
    }
}
