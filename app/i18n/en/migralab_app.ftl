# migralab — UI text (English).
# Every key here must also exist in ../id/migralab_app.ftl (a test checks).

app-title = migralab — VM live migration lab

## Top bar
mode-sim = SIMULATED
mode-sim-hover = A simulated lab: no libvirt needed, safe to try anything.
mode-real = REAL
mode-real-unavailable = Real mode (libvirt on real hosts) is not available in this version yet. Every exercise runs in the simulated lab.
tab-lesson = Lesson
tab-lab = Lab
tab-experiments = Experiments
tab-quiz = Quiz
tab-instructor = Instructor
lang-label = Language
lang-hover = Interface language
theme-label = Theme
theme-system = Follow the system
theme-light = Light
theme-dark = Dark
zoom-in = Zoom in (Ctrl +)
zoom-out = Zoom out (Ctrl −)
zoom-reset = Back to 100 %

## Lesson
lesson-show-me = Show me: { $prereq }
lesson-show-me-hover = Open the Lab on scenario { $scenario }, where only this prerequisite is broken.
lesson-command-hover = Hover (or Tab to) each part of the command to see what it does.
lesson-more-flags = Other options worth knowing
prereq-shared-storage = shared storage
prereq-network = the same network/bridge
prereq-ssh = password-less SSH
prereq-cpu = a compatible CPU
prereq-versions = compatible QEMU/libvirt versions
kitchen-title = The kitchen analogy
kitchen-old = Old kitchen (source host)
kitchen-new = New kitchen (destination host)
kitchen-play = ⏵ Play the animation
kitchen-pause = ⏸ Pause the animation
kitchen-restart = ⏮ Restart
kitchen-time = time
kitchen-phase-copy = Round 1: every ingredient is carried to the new kitchen while the cook keeps cooking.
kitchen-phase-dirty = Ingredients the cook used again (marked red) must be carried again; fewer each round.
kitchen-phase-pause = The cook stops for a moment (downtime): the last ingredients are carried.
kitchen-phase-resume = The cook carries on in the new kitchen. The diners hardly notice.
kitchen-legend = Small boxes = memory pages. Red mark = a "dirty" page: copied already, then changed again by the VM.

## Lab
lab-scenario = Scenario:
lab-reset = Restart the lab
lab-reset-hover = Open this scenario again from the start (the run history is kept).
topo-title = Lab topology
topo-client = client (ping)
topo-local-disks = local disks (no shared storage)
topo-off = off
topo-guest-on = { $vm } runs on { $host }
topo-guest-off = { $vm } is defined but shut off on { $host }
topo-guest-moving = { $vm } is moving from { $from } to { $to }
topo-problem-fail = prerequisite failed: { $check }
topo-problem-warn = warning: { $check }
preflight-all-ok = ✔ Every prerequisite of this migration is met.
preflight-fix = Fix:
form-title = Migration
form-vm = VM
form-to = Destination host
form-command = The command it produces:
form-run = ⏵ Run in the terminal
form-run-hover = Types this command into the lab terminal, exactly as if you typed it yourself.
form-copy = Copy the command
flag-live = Move it while the VM keeps running (pre-copy). Without it the VM is paused for the whole copy.
flag-persistent = Keep the VM's definition on the destination. The source's definition is NOT removed (that is --undefinesource).
flag-undefinesource = Remove the VM's definition from the source once the migration succeeds.
flag-copy-storage-all = Copy the whole disk over the network too (NBD), for hosts without shared storage.
flag-auto-converge = Slow the VM's vCPUs down when memory gets dirty faster than the network carries it, so the migration can finish.
flag-postcopy = Allow post-copy: after one pre-copy pass the VM moves first and then pulls the pages still missing.
flag-tunnelled = Send the migration data through libvirt's connection (SSH) instead of QEMU's direct TCP connection.
flag-verbose = Show the progress percentage during the migration.
flag-bandwidth = Migration bandwidth limit in MiB/s (0 = unlimited, libvirt's default).
flag-timeout = After this many seconds, pause the VM so the migration finishes (0 = none).
runs-label = Run
runs-none = (no run yet)
runs-hint = Run a migration from the form or the terminal; it is played back here.
play = Play
pause = Pause
step-iteration = Jump to the next iteration
speed-real = real time
speed-instant = instant
compare-label = Compare with
compare-none = (no comparison)
compare-hover = Show another run on the same plots to compare.
progress-backwards = Progress went back from { $best } % to { $now } %: the VM dirtied memory pages faster than they were sent, so they must be sent again.
term-running = running…
term-playing = migrating… { $pct } % (playback)
term-hint = type a command, e.g. virsh list --all
term-input = Terminal command line
term-input-hover = Enter runs it; the Up/Down arrows walk the history.
term-copy = Copy
term-copy-hover = Copy the whole terminal to the clipboard.
plots-empty = No run yet. Run a migration to see its plots.
plot-memory = Memory remaining (MiB) and iteration boundaries
plot-rates = Send rate vs dirty rate (MiB/s)
plot-ping = Ping to the VM: RTT, lost probes (×) and downtime (shaded)
plot-disk = Disk copy (%)
axis-time-s = time (s)
legend-iteration = iteration
legend-send = send
legend-dirty = dirty
legend-downtime = downtime
legend-lost = lost
export-label = Export:
export-figures = Plot images (PNG + SVG)
export-data = Data (CSV + JSON)
export-report = Lab report (HTML)
export-done = Saved: { $files }
export-failed = Export failed: { $error }
report-title = Live migration lab report

## Experiments
exp-none = No experiments.
exp-hypothesis = Hypothesis
exp-steps = Steps
exp-open-lab = Open the { $scenario } lab
exp-run-step = ⏵ Run
exp-compare = Compare both runs side by side
exp-compare-hover = Play the first run and show the second on the same plots.
exp-observation = Observation
exp-observation-hint = Write what you observed, with numbers from the plots…
exp-reveal = Show the explanation
exp-reveal-why = Write your observation first (at least a sentence).
exp-explanation = Explanation

## Quiz and instructor
quiz-intro = Check what you know about live migration. Choose learning objectives and how many questions, then answer them one at a time. Every option explains why it is right or wrong.
quiz-student = Student name
quiz-student-hint = e.g. Ana Putri
quiz-student-none = Type your name to save your answers to your progress profile.
quiz-student-saved = Answers will be saved to { $name }'s profile.
quiz-settings-broken = The instructor's settings cannot be read, so the defaults are used: { $error }
quiz-assessment-note = Assessment mode: right/wrong and the explanations are shown only after the whole quiz is submitted.
quiz-bank = Question bank
quiz-bank-shipped = Built in (assets/quizzes)
quiz-bank-broken = This question bank has errors, so the quiz cannot start:
quiz-nothing-visible = The instructor has not made any question of this bank visible.
quiz-nothing-to-ask = No question matches this choice.
quiz-objectives = Learning objectives
quiz-all-objectives = Every learning objective
quiz-n-questions = { $n ->
    [one] 1 question
   *[other] { $n } questions
}
quiz-all-questions = Every question ({ $n })
quiz-count = Number of questions
quiz-seed = Shuffle seed
quiz-seed-hint = The same seed gives the same order of questions (also with `migralab quiz --seed`).
quiz-start = Start the quiz
quiz-will-ask = { $n ->
    [one] 1 question will be asked.
   *[other] { $n } questions will be asked.
}
quiz-question-n = Question { $n } of { $total }
quiz-question-missing = Question { $id } is not in the bank.
quiz-assessment-badge = Assessment mode
quiz-retry-round = Retrying the missed questions
quiz-running-score = Right so far: { $right } of { $answered }
quiz-predict-scenario = Scenario: { $command }
quiz-single-hint = Choose one answer.
quiz-multi-hint = Choose every right answer.
quiz-order-hint = Put these steps in the right order with the ⬆ and ⬇ buttons.
quiz-move-up = Move step { $n } up
quiz-move-down = Move step { $n } down
quiz-command-hint = Write the whole command (the options in any order).
quiz-command-input = virsh migrate command
quiz-number-hint = Type the number (a decimal comma or point is fine).
quiz-number-input = Answer in { $unit }
quiz-choose-first = Choose an answer first.
quiz-check = Check the answer
quiz-submit-answer = Submit the answer
quiz-skip = Skip
quiz-next = Next question
quiz-see-results = See the results
quiz-end-now = End the quiz now
quiz-submit-now = Submit the quiz now
quiz-end-now-hover = Questions not answered yet are not counted.
quiz-right = ✔ Right!
quiz-wrong = ✖ Not right.
quiz-partly-right = ◑ Partly right (score { $score })
quiz-skipped = – Skipped.
quiz-your-answer = your answer
quiz-the-right-one = the right one
quiz-your-order = Your order (the steps' right numbers): { $order }
quiz-right-order = The right order:
quiz-your-command = Your command:
quiz-explanation = Explanation: { $text }
quiz-sim-failed = The simulator could not run: { $error }
quiz-results = Results
quiz-results-none = No question was answered yet.
quiz-results-total = { $correct } of { $asked } right, score { $points }/{ $asked } ({ $percent } %)
quiz-per-objective = Per learning objective
quiz-seed-was = This quiz's seed: { $seed }
quiz-retry-missed = Retry the missed questions ({ $n })
quiz-new = New quiz
quiz-all-right = Every question is right now. Well done!
quiz-review-mistakes = Review your mistakes
quiz-review-all = Answers and explanations
quiz-recorded = { $n ->
    [one] 1 answer saved
   *[other] { $n } answers saved
} to { $name }'s profile.
quiz-not-recorded = Answers are not saved (no student name).
quiz-record-failed = The answers cannot be saved: { $error }
instr-broken = The instructor settings file is damaged. Instructor mode stays locked until the file is fixed.
instr-broken-fix = Fix { $path } (or delete the file), then press Reload.
instr-reload = Reload
instr-locked = Instructor mode is protected by a PIN.
instr-pin = Enter the PIN
instr-unlock = Unlock
instr-wrong-pin = Wrong PIN.
instr-file = Settings file: { $path }
instr-lock = Lock
instr-no-pin = No PIN yet: anyone using this app can change the settings. Set a PIN below.
instr-pin-title = Instructor PIN
instr-new-pin = New PIN
instr-new-pin-again = New PIN again
instr-set-pin = Set the PIN
instr-change-pin = Change the PIN
instr-remove-pin = Remove the PIN
instr-pin-note = At least { $min } characters. Only its argon2id hash is stored, never the PIN.
instr-pin-mismatch = The two PINs differ.
instr-pin-short = The PIN needs at least { $min } characters.
instr-pin-set = PIN set.
instr-pin-changed = PIN changed.
instr-pin-removed = PIN removed.
instr-settings-title = Class settings
instr-mode-lock = Lab mode
instr-mode-free = Students may choose
instr-mode-simulated = Lock to simulated mode
instr-mode-real = Lock to real mode
instr-assessment = Assessment mode
instr-assessment-note = In assessment mode the right answers and explanations are shown only after the student submits the whole quiz.
instr-visible = What students see
instr-lessons-all = Every lesson
instr-lessons = Lessons shown (one per line)
instr-experiments-all = Every experiment
instr-experiments = Experiments shown (one per line)
instr-quizzes-all = Every quiz question
instr-quizzes-other = Other question banks or question ids shown (one per line)
instr-folders = Extra folders
instr-scenario-dirs = Scenario folders (one per line)
instr-quiz-dirs = Question bank folders (one per line)
instr-check-folders = Check the folders
instr-no-folders = No extra folders.
instr-real-lab = Real lab
instr-allowed-hosts = Allowed hosts (libvirt URIs, one per line)
instr-allowed-domains = Domains (VMs) students may migrate (one per line)
instr-ping-target = Address pinged
instr-save = Save the settings
instr-revert = Discard the changes
instr-unsaved = There are unsaved changes.
instr-saved = Settings saved.
instr-save-failed = The settings were not saved: { $error }
instr-students-title = Students' progress
instr-students-refresh = Reload the student list
instr-students-none = No student has saved any answers yet.
instr-col-student = Student
instr-col-answers = Answers
instr-col-right = Right
instr-col-score = Score
instr-col-observations = Observations
instr-export-dir = Export folder
instr-export-dir-hint = (empty: the data folder)
instr-export-json = Export JSON
instr-export-csv = Export CSV
instr-exported = Saved: { $path }
instr-export-failed = Export failed: { $error }

## Migration phases and outcomes
phase-setup = setup
phase-storage-copy = copying the disk
phase-precopy = pre-copy (the VM keeps running)
phase-suspended = VM paused (--timeout)
phase-stop-and-copy = stop-and-copy (VM paused)
phase-postcopy = post-copy
phase-resume = resuming the VM on the destination
phase-done = done
outcome-completed = completed
outcome-failed = failed
outcome-aborted = aborted
outcome-not-converged = not converged
instr-folder-questions = { $dir }: { $n ->
    [one] 1 question, valid.
   *[other] { $n } questions, all valid.
}
instr-folder-scenarios = { $dir }: { $n ->
    [one] 1 valid scenario.
   *[other] { $n } valid scenarios.
}
instr-folder-empty = { $dir }: no .toml files.

## Instructor settings in other tabs
mode-locked-sim = The instructor locked the lab to simulated mode.
hidden-by-instructor = The instructor has hidden this part.
export-running = Exporting…
exp-student = Student name:
exp-save = Save to profile
exp-save-hover = Save this observation in your progress profile (the instructor can collect it).
exp-saved = Observation saved in { $student }'s profile.
exp-saved-no-student = Type the student's name to save the observation in a profile (the app keeps it anyway).
exp-save-failed = The observation was not saved in the profile: { $error }
lab-teaches = What this scenario shows

## Real mode in the app (gui/real)
mode-real-on-hover = Real lab: real migrations on the hosts the instructor allowed, through libvirt.
mode-real-switch = Switch to the real lab (real hosts through libvirt).
mode-sim-switch = Back to the simulated lab.
mode-real-not-built = This migralab was built without real mode. Rebuild it with the `real` feature (needs the Debian packages libvirt-dev and pkg-config): `cargo run --release --features real`.
mode-real-no-hosts = The instructor has not allowed any host yet. Fill in the host list (real_lab.allowed_hosts) in the Instructor tab or in instructor.toml.
mode-locked-real = The instructor locked the lab to real mode.
real-banner = REAL: real hosts
real-banner-detail = Everything here runs on real hosts through libvirt. A migration always asks for confirmation first and can be aborted at any time.
real-src = Source host
real-dst = Destination host
real-domain = Domain (VM)
real-domain-free = As the instructor, you may type another domain name.
real-no-domains = The instructor has not allowed any domain (real_lab.allowed_domains).
real-ping = Ping
real-ping-none = none (the instructor set no ping_target)
real-ping-bad = "{ $target }" is not an IPv4 address, so the migration runs without ping.
real-preflight = Check prerequisites
real-preflight-hover = Runs the prerequisite checks on both real hosts. Read-only; nothing is changed.
real-preflight-running = Checking prerequisites... { $secs } s
real-preflight-summary = Prerequisites for { $vm } ({ $src } to { $dst }): { $pass } passed, { $fail } failed, { $warn } warnings, { $unknown } unknown (?).
real-preflight-failed = The preflight could not run:
preflight-libvirt = libvirt says:
real-form-title = Real migration
real-flag-p2p = The source host's libvirtd drives the migration (it connects to the destination itself).
real-downtime = Downtime limit
real-downtime-hover = How long the VM may be paused at the end of the migration (virsh migrate-setmaxdowntime). The default, 300 ms, is QEMU's; libvirt passes the setting on.
real-command = The same as:
real-migrate = Migrate...
real-migrate-hover = Asks for confirmation first; nothing happens until you confirm.
real-confirm-title = Run a real migration?
real-confirm-body = The VM { $vm } will be moved from { $src } to { $dst }. This is a real migration through libvirt, the same as these commands:
real-confirm-ping = During the migration, { $target } is pinged every 10 ms.
real-confirm-abort = The migration can be aborted at any time with the "Abort (virsh domjobabort)" button.
real-confirm-yes = Yes, migrate
real-confirm-no = Cancel
real-running = Migration running... { $secs } s
real-abort = Abort (virsh domjobabort)
real-abort-hover = Aborts the migration job (virDomainAbortJob); the VM keeps running on the source host.
real-abort-requested = Abort requested; waiting for libvirt...
real-result = Run #{ $id }: { $outcome }
real-libvirt-says = libvirt's message (unchanged):
real-left-running = The real migration was aborted (virsh domjobabort) because you went back to simulated mode. Its result is in the run history.
real-close-title = A real migration is running
real-close-body = Closing migralab aborts this migration (virsh domjobabort); the VM keeps running on the source host.
real-close-yes = Abort the migration and close
real-close-no = Keep open
real-prediction = Simulator prediction vs measurement
real-predicting = The simulator is computing the prediction...
real-prediction-none = No prediction yet: run the preflight or a migration.
real-prediction-failed = No prediction: { $error }
real-prediction-for = For: { $command }
real-col-what = Quantity
real-col-predicted = Predicted
real-col-measured = Measured
real-row-outcome = Outcome
real-row-total = Total time
real-row-downtime = Downtime
real-row-memory = Memory sent
real-row-iterations = Iterations
real-assumptions = Measured from the domain: RAM { $ram } MiB. Unknown to libvirt, so taken from the scenario { $scenario }: a { $link } MiB/s link, { $workload }, { $zero } % of RAM still zero. The prediction can therefore be far from the measurement.
real-workload-hot = a guest rewriting { $set } MiB at { $rate } MiB/s
real-workload-idle = a guest that writes no memory
real-legend-predicted = simulator prediction
real-legend-live = running
real-no-run = No real migration in this session yet.
instr-prediction-scenario = Scenario for the simulator's prediction (empty: lesson; labbox for the lab in a box):
