// FlowForge — worker names: what is accepted, the default from a command, and the command as typed.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeWire
import Testing

@Suite("Worker names")
struct WorkerNameTests {
    @Test(arguments: ["consumer", "consumer:1", "consumer:9999", "crawl.sh", "a_b-c.d", String(repeating: "x", count: 64)])
    func acceptsNames(_ text: String) throws {
        let name = try #require(WorkerName(text))
        #expect(name.description == text)
    }

    @Test(arguments: ["", ":1", "consumer:", "consumer:0", "consumer:01", "consumer:10000", "consumer:1:2", "-x", ".hidden",
                      "a b", "a/b", "name\u{0}", "é", String(repeating: "x", count: 65), "c:-1", "c:+1"])
    func refusesNames(_ text: String) {
        #expect(WorkerName(text) == nil)
    }

    @Test func instancesAreParsed() throws {
        let name = try #require(WorkerName("consumer:3"))
        #expect(name.program == "consumer" && name.instance == 3)
    }

    @Test func defaultsToTheCommandsBasename() {
        #expect(WorkerName.defaulted(command: "/usr/bin/python3").description == "python3")
        #expect(WorkerName.defaulted(command: "./crawl.sh").description == "crawl.sh")
        #expect(WorkerName.defaulted(command: "my worker").description == "my_worker")
        #expect(WorkerName.defaulted(command: "/").description == "worker")
        #expect(WorkerName.defaulted(command: "..").description == "worker")
        #expect(WorkerName.defaulted(command: String(repeating: "y", count: 200)).description.count == 64)
    }

    @Test func commandsAreShownAsTyped() {
        #expect(WorkerName.displayCommand(["python3", "worker.py", "--queue", "orders"]) == "python3 worker.py --queue orders")
        #expect(WorkerName.displayCommand(["sh", "-c", "echo 'hi' | cat"]) == #"sh -c 'echo '\''hi'\'' | cat'"#)
        #expect(WorkerName.displayCommand(["x", ""]) == "x ''")
    }
}
