// The job-array script, the `--array` value, and Slurm's answers (sbatch --parsable, sacct, squeue) as recorded.
import Foundation
import SlurmJobs
import Testing

@Suite("Slurm job arrays")
struct SlurmJobsTests {
    @Test func scriptText() {
        let settings = SlurmSettings(
            partition: "gpu", time: "2:00:00", gpusPerTask: 1, cpusPerTask: 8, maxParallel: 4,
            extraLines: ["mem=16G", "--account=lab", "#SBATCH --qos=long"])
        let script = SlurmArray.script(
            settings: settings, jobName: "kinema-predict", logs: "/data/out/slurm/logs",
            command: ["/opt/kinema", "predict", "/models/mouse", "--videos", "/data/out/slurm/videos.txt", "--output", "/data/my out"])
        #expect(
            script == """
                #!/bin/bash
                #SBATCH --job-name=kinema-predict
                #SBATCH --output=/data/out/slurm/logs/%A_%a.log
                #SBATCH --partition=gpu
                #SBATCH --time=2:00:00
                #SBATCH --gpus-per-task=1
                #SBATCH --cpus-per-task=8
                #SBATCH --mem=16G
                #SBATCH --account=lab
                #SBATCH --qos=long
                # Written by kinema predict --slurm; submitted with sbatch --array=TASKS (kinema jobs retry does that again).
                set -euo pipefail
                # Threads follow the CPUs Slurm gave the task, also where tasks are not bound to them (TaskPlugin=task/none).
                export KINEMA_THREADS="${KINEMA_THREADS:-${SLURM_CPUS_ON_NODE:-}}"
                exec /opt/kinema predict /models/mouse --videos /data/out/slurm/videos.txt --output '/data/my out' --batch-chunk "$SLURM_ARRAY_TASK_ID" "$@"

                """)
        // A logs folder with a space or a `%` in its name: quoted (sbatch refused the unquoted line with "Invalid
        // directive found in batch script: out/%A_%a.log") and `%` doubled (sbatch would read `%2` as a symbol).
        let spaced = SlurmArray.script(settings: SlurmSettings(), jobName: "j", logs: "/data/my out/100%2/logs", command: ["k"])
        #expect(spaced.contains("\n#SBATCH --output=\"/data/my out/100%%2/logs/%A_%a.log\"\n"), "\(spaced)")
        // Nothing asked, nothing written.
        let bare = SlurmArray.script(settings: SlurmSettings(), jobName: "j", logs: "/l", command: ["k"])
        #expect(
            bare.split(separator: "\n").filter { $0.hasPrefix("#SBATCH") } == ["#SBATCH --job-name=j", "#SBATCH --output=/l/%A_%a.log"])
    }

    @Test func arraySpecAndJobID() {
        #expect(SlurmArray.arraySpec([0, 1, 2, 3], maxParallel: 4) == "0-3%4")
        #expect(SlurmArray.arraySpec([7, 0, 1, 3, 5, 6], maxParallel: nil) == "0-1,3,5-7")
        #expect(SlurmArray.arraySpec([2], maxParallel: nil) == "2")
        #expect(SlurmArray.jobID(fromParsable: "4242\n") == "4242")
        #expect(SlurmArray.jobID(fromParsable: "4242;cluster1\n") == "4242")
        #expect(SlurmArray.jobID(fromParsable: "sbatch: error: Batch job submission failed") == nil)
    }

    /// `sacct -j 4242,4250 -X -n -P -o JobID,State,ExitCode` and `squeue -h -r -o %i|%T` as Slurm 23 prints them.
    static let sacct = """
        4242_0|COMPLETED|0:0
        4242_1|COMPLETED|0:0
        4242_2|FAILED|1:0
        4242_3|CANCELLED by 1000|0:15
        4242_4|TIMEOUT|0:0
        4242_5|RUNNING|0:0
        4242_[6-8,10%2]|PENDING|0:0
        4250_2|COMPLETED|0:0
        4251|COMPLETED|0:0

        """
    static let squeue = """
        4242_5|COMPLETING
        4242_6|RUNNING
        4242_7|PENDING
        4242_8|PENDING
        4242_10|PENDING

        """

    @Test func sacctAndSqueueParsing() {
        let accounted = SlurmAccounting.parseSacct(Self.sacct)
        #expect(accounted.count == 11)
        #expect(accounted[2] == SlurmTaskState(job: "4242", task: 2, state: "FAILED", exitCode: "1:0"))
        #expect(accounted[3] == SlurmTaskState(job: "4242", task: 3, state: "CANCELLED", exitCode: "0:15"))
        #expect(accounted[6...9].map(\.task) == [6, 7, 8, 10] && accounted[6...9].allSatisfy { $0.state == "PENDING" })
        let queued = SlurmAccounting.parseSqueue(Self.squeue)
        #expect(queued.map(\.task) == [5, 6, 7, 8, 10] && queued[0].state == "COMPLETING" && queued[0].exitCode == nil)

        let latest = SlurmAccounting.latest(sacct: accounted, squeue: queued, jobs: ["4242", "4250"])
        #expect(latest.keys.sorted() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 10])
        #expect(latest[2] == SlurmTaskState(job: "4250", task: 2, state: "COMPLETED", exitCode: "0:0"))  // the retry's
        #expect(latest[5] == SlurmTaskState(job: "4242", task: 5, state: "COMPLETING", exitCode: "0:0"))  // squeue is newer
        #expect(latest[6]?.state == "RUNNING" && latest[6]?.isActive == true)
        #expect(latest[3]?.isActive == false && latest[4]?.state == "TIMEOUT")
        #expect(latest.values.filter(\.isActive).count == 5)
        // Another job's lines (not this batch's) are left out.
        #expect(SlurmAccounting.latest(sacct: accounted, squeue: [], jobs: ["4250"]).keys.sorted() == [2])
    }

    /// Slurm 22.05 on one node, a moment after task 0 ended and task 1 was cancelled: slurmdbd has not yet
    /// recorded task 0's end nor task 2's start, so sacct still says RUNNING and PENDING; squeue, which no longer
    /// lists task 0, is the current word. A task sacct calls active but squeue does not list is not active.
    @Test func staleAccountingIsNotTakenForActiveTasks() {
        let sacct = SlurmAccounting.parseSacct("2_0|RUNNING|0:0\n2_1|CANCELLED by 0|0:15\n2_[2-3%3]|PENDING|0:0\n")
        let squeue = SlurmAccounting.parseSqueue("2_3|PENDING\n2_2|RUNNING\n")
        let latest = SlurmAccounting.latest(sacct: sacct, squeue: squeue, jobs: ["2"])
        #expect(latest[0] == nil)  // left the queue; its manifest says what it did
        #expect(latest[1] == SlurmTaskState(job: "2", task: 1, state: "CANCELLED", exitCode: "0:15"))
        #expect(latest[2] == SlurmTaskState(job: "2", task: 2, state: "RUNNING", exitCode: "0:0"))
        #expect(latest[3]?.state == "PENDING" && latest.values.filter(\.isActive).count == 2)
        // squeue not answering: sacct's word is all there is.
        #expect(SlurmAccounting.latest(sacct: sacct, squeue: nil, jobs: ["2"])[0]?.state == "RUNNING")
        // A retry's task that squeue lists is active even before sacct knows the new job.
        let retried = SlurmAccounting.latest(sacct: sacct, squeue: SlurmAccounting.parseSqueue("3_1|PENDING\n"), jobs: ["2", "3"])
        #expect(retried[1] == SlurmTaskState(job: "3", task: 1, state: "PENDING") && retried[2] == nil)

        // squeue's answers: a list; "Invalid job id" once every job asked about has left slurmctld (none queued);
        // anything else (the controller down) is no answer.
        #expect(SlurmAccounting.queued(.init(status: 0, output: "2_3|PENDING\n", error: ""))?.map(\.task) == [3])
        #expect(SlurmAccounting.queued(.init(status: 1, output: "", error: "slurm_load_jobs error: Invalid job id specified\n")) == [])
        #expect(
            SlurmAccounting.queued(.init(status: 1, output: "", error: "slurm_load_jobs error: Unable to contact slurm controller\n"))
                == nil)
    }

    /// sbatch's refusal of an array past MaxArraySize (Slurm 22.05's words) says what to change.
    @Test func refusalOfALongArraySaysWhatToDo() {
        let line = "sbatch: error: Batch job submission failed: Invalid job array specification"
        #expect(
            SlurmArray.refusal(line, tasks: Array(0..<1200))
                == "sbatch refused the job: \(line) (the highest task index is 1199; clusters take indices below MaxArraySize, 1001 by default: a larger --videos-per-task makes fewer tasks)"
        )
        #expect(SlurmArray.refusal(line, tasks: [0, 1]) == "sbatch refused the job: \(line)")
        #expect(
            SlurmArray.refusal("sbatch: error: invalid partition specified: gpu", tasks: Array(0..<1200))
                == "sbatch refused the job: sbatch: error: invalid partition specified: gpu")
    }

    @Test func jobRecordChunks() throws {
        let record = SlurmJobRecord(videos: 23, videosPerTask: 10, settings: SlurmSettings(partition: "cpu"), jobs: ["1"])
        #expect(record.tasks == 3)
        #expect(record.chunk(0) == 0..<10 && record.chunk(2) == 20..<23)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("slurm-record-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let folder = SlurmJobFolder(output: dir.path)
        #expect(throws: SlurmError.self) { try SlurmJobRecord.load(folder) }
        try record.save(folder)
        #expect(try SlurmJobRecord.load(folder) == record)
        #expect(folder.manifest(task: 2) == dir.path + "/slurm/manifests/task-2.json")
    }

    /// Separate cameras: the tasks share out sessions, never a session's videos, and an old record (no sessions)
    /// still reads as one of videos.
    @Test func sessionRecordChunksWholeSessions() throws {
        // 7 sessions of 3 cameras (21 videos), 2 sessions a task: 4 tasks, the last with one session.
        let record = SlurmJobRecord(videos: 21, sessions: 7, videosPerTask: 2, settings: SlurmSettings())
        #expect(record.tasks == 4 && record.units == 7 && record.unit == "sessions")
        #expect((0..<4).map(record.chunk) == [0..<2, 2..<4, 4..<6, 6..<7])
        #expect(record.chunk(4).isEmpty && record.chunk(-1).isEmpty && record.chunk(99).isEmpty)
        #expect(SlurmJobRecord.chunk(1, of: 3, perTask: 5).isEmpty && SlurmJobRecord.chunk(0, of: 3, perTask: 5) == 0..<3)
        let old = try JSONDecoder().decode(
            SlurmJobRecord.self,
            from: Data(#"{"videos": 23, "videosPerTask": 10, "settings": {"extraLines": []}, "jobs": ["1"]}"#.utf8))
        #expect(old.sessions == nil && old.units == 23 && old.unit == "videos" && old.tasks == 3)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("slurm-sessions-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try record.save(SlurmJobFolder(output: dir.path))
        #expect(try SlurmJobRecord.load(SlurmJobFolder(output: dir.path)) == record)
    }
}
