package report

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Corrective actions (steps 05–06 of ETAPA 2): the jefe records them on an
// approved report, the receptionists concerned read them, and each later
// month's report follows every open one until the jefe judges it
// effective or not, or closes it. Each of these steps is an event of the
// history of the action's month (and, for a judgement, of the month it was
// judged in too).

// maxActionText bounds an instruction and an assessment's comment, in
// characters: a paragraph, not a document.
const maxActionText = 2000

// AddAction records a corrective action on the month's approved report
// (ErrNotApproved otherwise): To is a configured receptionist or
// ToEveryone, the instruction is required, the indicator must be one the
// report computes (ValidIndicator, against the current form) and the due
// date a YYYY-MM-DD day after the month. Every other fault is ErrBadAction.
// The baseline is the indicator's value in the month. Ids are "<month>-<n>",
// n counted per month from 1.
func (r *Reviewer) AddAction(ctx context.Context, req ActionRequest) (Action, error) {
	_, end, err := MonthRange(req.Month, r.loc)
	if err != nil {
		return Action{}, err
	}
	if req.By == "" {
		return Action{}, fmt.Errorf("action on %s: %w", req.Month, ErrReason)
	}
	if err := r.checkAction(req, end); err != nil {
		return Action{}, fmt.Errorf("action on %s: %w", req.Month, err)
	}
	// Refused before the indicator is computed, which reads the month.
	if rv, err := r.Get(ctx, req.Month); err != nil {
		return Action{}, err
	} else if rv.State != ReviewApproved {
		return Action{}, fmt.Errorf("action on %s: %w (%s)", req.Month, ErrNotApproved, rv.State)
	}
	// Outside the write mutex: it recomputes the month's figures.
	base, err := r.indicator(ctx, req.Month, req.Indicator)
	if err != nil {
		return Action{}, fmt.Errorf("action on %s: baseline: %w", req.Month, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	sr, err := r.get(ctx, req.Month)
	if err != nil {
		return Action{}, err
	}
	if sr.State != ReviewApproved {
		return Action{}, fmt.Errorf("action on %s: %w (%s)", req.Month, ErrNotApproved, sr.State)
	}
	n, err := r.lastActionN(ctx, req.Month)
	if err != nil {
		return Action{}, err
	}
	at := r.now().UTC()
	a := Action{
		ID: req.Month + "-" + strconv.Itoa(n+1), Month: req.Month, To: req.To,
		Instruction: strings.TrimSpace(req.Instruction), Indicator: req.Indicator,
		DueDate: req.DueDate, Status: ActionOpen, CreatedAt: at, CreatedBy: req.By,
		Baseline: base, Assessments: []Assessment{}, Acknowledged: []ActionAck{},
	}
	sr.History = append(sr.History, Event{At: at, By: req.By, Action: EventActionAdded, Detail: a.ID})
	if err := r.store(ctx, at, req.By, &a, &sr); err != nil {
		return Action{}, err
	}
	r.log.Info("corrective action recorded", "month", req.Month, "id", a.ID, "to", a.To, "indicator", a.Indicator.Kind, "by", req.By)
	return a, nil
}

// checkAction checks what a request says, without reading the store.
func (r *Reviewer) checkAction(req ActionRequest, end time.Time) error {
	if req.To != ToEveryone && !slices.Contains(r.opts.Operators, req.To) {
		return fmt.Errorf("%w: %q is not a configured receptionist nor %q", ErrBadAction, req.To, ToEveryone)
	}
	if strings.TrimSpace(req.Instruction) == "" {
		return fmt.Errorf("%w: no instruction", ErrBadAction)
	}
	if utf8.RuneCountInString(req.Instruction) > maxActionText {
		return fmt.Errorf("%w: instruction longer than %d characters", ErrBadAction, maxActionText)
	}
	form, err := FormByVersion(CurrentForm)
	if err != nil {
		return err
	}
	if err := ValidIndicator(req.Indicator, form, r.opts.Operators); err != nil {
		return err
	}
	due, err := time.ParseInLocation(time.DateOnly, req.DueDate, r.loc)
	if err != nil || len(req.DueDate) != len(time.DateOnly) {
		return fmt.Errorf("%w: due date %q is not YYYY-MM-DD", ErrBadAction, req.DueDate)
	}
	if due.Before(end) {
		return fmt.Errorf("%w: due date %s is not after the month", ErrBadAction, req.DueDate)
	}
	return nil
}

// indicator asks the source for an indicator's value; none without one.
func (r *Reviewer) indicator(ctx context.Context, month string, ind Indicator) (*float64, error) {
	if r.indicators == nil {
		return nil, nil
	}
	return r.indicators.Indicator(ctx, month, ind)
}

// lastActionN is the highest n of the month's action ids, 0 with none.
func (r *Reviewer) lastActionN(ctx context.Context, month string) (int, error) {
	last := 0
	prefix := prefixAction + month + "-"
	err := r.kv.Scan(ctx, []byte(prefix), func(key, _ []byte) error {
		if n, err := strconv.Atoi(strings.TrimPrefix(string(key), prefix)); err == nil {
			last = max(last, n)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("actions of %s: %w", month, err)
	}
	return last, nil
}

// store writes an action and the reviews whose history the step added to,
// in one transaction.
func (r *Reviewer) store(ctx context.Context, at time.Time, by string, a *Action, reviews ...*storedReview) error {
	val, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("action %s: encode: %w", a.ID, err)
	}
	set := [][2][]byte{{actionKey(a.ID), val}}
	for _, sr := range reviews {
		rv, err := sr.encode(at, by)
		if err != nil {
			return err
		}
		set = append(set, [2][]byte{reviewKey(sr.Month), rv})
	}
	if err := r.kv.Batch(ctx, set, nil); err != nil {
		return fmt.Errorf("action %s: store: %w", a.ID, err)
	}
	return nil
}

// Action returns the action with that id, ErrNoAction when there is none.
func (r *Reviewer) Action(ctx context.Context, id string) (Action, error) {
	if id == "" {
		return Action{}, fmt.Errorf("action %q: %w", id, ErrNoAction)
	}
	val, ok, err := r.kv.Get(ctx, actionKey(id))
	if err != nil {
		return Action{}, fmt.Errorf("action %s: %w", id, err)
	}
	if !ok {
		return Action{}, fmt.Errorf("action %q: %w", id, ErrNoAction)
	}
	return decodeAction(id, val)
}

func decodeAction(id string, val []byte) (Action, error) {
	var a Action
	if err := json.Unmarshal(val, &a); err != nil {
		return Action{}, fmt.Errorf("action %s: %w: %w", id, ErrCorrupt, err)
	}
	if a.Assessments == nil {
		a.Assessments = []Assessment{}
	}
	if a.Acknowledged == nil {
		a.Acknowledged = []ActionAck{}
	}
	return a, nil
}

// ActionFilter selects actions; a zero field selects all. Operator selects
// the actions concerning a receptionist: given to them or to everyone.
type ActionFilter struct {
	Month    string
	To       string
	Status   ActionStatus
	Operator string
}

func (f ActionFilter) match(a Action) bool {
	return (f.Month == "" || a.Month == f.Month) &&
		(f.To == "" || a.To == f.To) &&
		(f.Status == "" || a.Status == f.Status) &&
		(f.Operator == "" || a.To == f.Operator || a.To == ToEveryone)
}

// Actions returns the actions the filter selects, by creation.
func (r *Reviewer) Actions(ctx context.Context, f ActionFilter) ([]Action, error) {
	prefix := prefixAction
	if f.Month != "" {
		if _, _, err := MonthRange(f.Month, r.loc); err != nil {
			return nil, err
		}
		prefix += f.Month + "-"
	}
	out := []Action{}
	err := r.kv.Scan(ctx, []byte(prefix), func(key, val []byte) error {
		a, err := decodeAction(strings.TrimPrefix(string(key), prefixAction), val)
		if err != nil {
			return err
		}
		if f.match(a) {
			out = append(out, a)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("actions: %w", err)
	}
	slices.SortStableFunc(out, func(a, b Action) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.Month, b.Month), cmp.Compare(actionN(a.ID), actionN(b.ID)))
	})
	return out, nil
}

// actionN is the n of an id "<month>-<n>".
func actionN(id string) int {
	n, _ := strconv.Atoi(id[strings.LastIndexByte(id, '-')+1:])
	return n
}

// Assess records the jefe's judgement of an open action (ErrState
// otherwise) in the report of a later month that has begun (ErrBadAction
// otherwise): effective, not effective, or closed. The value is the
// indicator's in that month. The step goes to the history of both months.
func (r *Reviewer) Assess(ctx context.Context, req AssessRequest) (Action, error) {
	from, _, err := MonthRange(req.Month, r.loc)
	if err != nil {
		return Action{}, err
	}
	if req.By == "" {
		return Action{}, fmt.Errorf("assess %s: %w", req.ID, ErrReason)
	}
	switch req.Status {
	case ActionEffective, ActionNotEffective, ActionClosed:
	default:
		return Action{}, fmt.Errorf("assess %s: %w: status %q", req.ID, ErrBadAction, req.Status)
	}
	if utf8.RuneCountInString(req.Comment) > maxActionText {
		return Action{}, fmt.Errorf("assess %s: %w: comment longer than %d characters", req.ID, ErrBadAction, maxActionText)
	}
	a, err := r.Action(ctx, req.ID)
	if err != nil {
		return Action{}, err
	}
	if req.Month <= a.Month {
		return Action{}, fmt.Errorf("assess %s: %w: %s is not after the action's month %s", req.ID, ErrBadAction, req.Month, a.Month)
	}
	if r.now().Before(from) {
		return Action{}, fmt.Errorf("assess %s: %w: %s has not begun", req.ID, ErrBadAction, req.Month)
	}
	if a.Status != ActionOpen {
		return Action{}, fmt.Errorf("assess %s: %w (%s)", req.ID, ErrState, a.Status)
	}
	val, err := r.indicator(ctx, req.Month, a.Indicator)
	if err != nil {
		return Action{}, fmt.Errorf("assess %s: indicator: %w", req.ID, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if a, err = r.Action(ctx, req.ID); err != nil {
		return Action{}, err
	}
	if a.Status != ActionOpen {
		return Action{}, fmt.Errorf("assess %s: %w (%s)", req.ID, ErrState, a.Status)
	}
	at := r.now().UTC()
	a.Assessments = append(a.Assessments, Assessment{
		At: at, By: req.By, Month: req.Month, Status: req.Status, Comment: req.Comment, Value: val,
	})
	a.Status = req.Status
	ev := Event{At: at, By: req.By, Action: EventActionAssessed, Detail: a.ID}
	own, err := r.get(ctx, a.Month)
	if err != nil {
		return Action{}, err
	}
	judged, err := r.get(ctx, req.Month)
	if err != nil {
		return Action{}, err
	}
	own.History = append(own.History, ev)
	judged.History = append(judged.History, ev)
	if err := r.store(ctx, at, req.By, &a, &own, &judged); err != nil {
		return Action{}, err
	}
	r.log.Info("corrective action assessed", "id", a.ID, "month", req.Month, "status", req.Status, "by", req.By)
	return a, nil
}

// AcknowledgeAction records that a receptionist read an action given to
// them or to everyone (ErrNotYours otherwise). by is the account. A
// receptionist acknowledges an action once: a second time changes nothing.
func (r *Reviewer) AcknowledgeAction(ctx context.Context, id, operator, by string) (Action, error) {
	if operator == "" || by == "" {
		return Action{}, fmt.Errorf("acknowledge %s: %w", id, ErrReason)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	a, err := r.Action(ctx, id)
	if err != nil {
		return Action{}, err
	}
	mine := a.To == operator || (a.To == ToEveryone && slices.Contains(r.opts.Operators, operator))
	if operator == ToEveryone || !mine {
		return Action{}, fmt.Errorf("acknowledge %s: %w", id, ErrNotYours)
	}
	if slices.ContainsFunc(a.Acknowledged, func(k ActionAck) bool { return k.Operator == operator }) {
		return a, nil
	}
	at := r.now().UTC()
	a.Acknowledged = append(a.Acknowledged, ActionAck{Operator: operator, By: by, At: at})
	sr, err := r.get(ctx, a.Month)
	if err != nil {
		return Action{}, err
	}
	sr.History = append(sr.History, Event{At: at, By: by, Action: EventActionRead, Detail: a.ID})
	if err := r.store(ctx, at, by, &a, &sr); err != nil {
		return Action{}, err
	}
	return a, nil
}

// FollowUps returns the actions the month's report follows: those of
// earlier months still open, and those judged in this month, by creation,
// each with its indicator before (the baseline) and in the month. Actions
// on the same indicator share one computation of it.
func (r *Reviewer) FollowUps(ctx context.Context, month string) ([]FollowUp, error) {
	if _, _, err := MonthRange(month, r.loc); err != nil {
		return nil, err
	}
	all, err := r.Actions(ctx, ActionFilter{})
	if err != nil {
		return nil, err
	}
	out := []FollowUp{}
	values := map[Indicator]*float64{}
	for _, a := range all {
		if a.Month >= month || (a.Status != ActionOpen && !slices.ContainsFunc(a.Assessments, func(s Assessment) bool { return s.Month == month })) {
			continue
		}
		after, ok := values[a.Indicator]
		if !ok {
			if after, err = r.indicator(ctx, month, a.Indicator); err != nil {
				return nil, fmt.Errorf("follow-up of %s in %s: %w", a.ID, month, err)
			}
			values[a.Indicator] = after
		}
		fu := FollowUp{Action: a, Before: indCopy(a.Baseline), After: indCopy(after)}
		if fu.Before != nil && fu.After != nil {
			// Rounded so that 80.1 − 80 is 0.1, not 0.09999999999999432.
			d := math.Round((*fu.After-*fu.Before)*1e6) / 1e6
			better := d > 0
			if Lower(a.Indicator.Kind) {
				better = d < 0
			}
			fu.Delta, fu.Improved = &d, &better
		}
		out = append(out, fu)
	}
	return out, nil
}
