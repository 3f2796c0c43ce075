package tfprovider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	dxtypes "github.com/aws/aws-sdk-go-v2/service/dataexchange/types"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var (
	_ resource.ResourceWithConfigure      = (*jobResource)(nil)
	_ resource.ResourceWithImportState    = (*jobResource)(nil)
	_ resource.ResourceWithValidateConfig = (*jobResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*jobResource)(nil)
)

// Default time limits for wait_for_completion.
const (
	defaultCreateTimeout = 60 * time.Minute
	defaultUpdateTimeout = 60 * time.Minute
)

type jobResource struct {
	configuredClients
	// pollInterval caps the wait between two GetJob calls while waiting.
	pollInterval time.Duration
}

func pathOf(name string) path.Path { return path.Root(name) }

func (r *jobResource) Metadata(_ context.Context, _ resource.MetadataRequest, resp *resource.MetadataResponse) {
	// The hashicorp/aws name, so that the seed's configurations work with
	// `provider = wharf` as their only change.
	resp.TypeName = "aws_dataexchange_job"
}

func (r *jobResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = jobSchema(ctx)
}

func (r *jobResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, pathOf("id"), req, resp)
}

func (r *jobResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m jobModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(validateJob(ctx, &m)...)
}

// validateJob is the plan-time check of a job's configuration beyond each
// attribute's own validators: which arguments go with which type, and the
// arguments that depend on each other.
func validateJob(ctx context.Context, m *jobModel) diag.Diagnostics {
	var diags diag.Diagnostics
	if m.Type.IsUnknown() || m.Type.IsNull() {
		return diags
	}
	typ := m.Type.ValueString()
	for _, p := range checkJobArgs(typ, m.setArgs()) {
		diags.AddAttributeError(pathOf(p.Arg), p.Summary, p.Detail)
	}
	if known(m.EncryptionType) {
		switch m.EncryptionType.ValueString() {
		case "aws:kms":
			if m.EncryptionKMSKeyARN.IsNull() {
				diags.AddAttributeError(pathOf(argEncryptionKMSKeyARN),
					fmt.Sprintf("Argument %s is required for encryption type aws:kms", argEncryptionKMSKeyARN),
					fmt.Sprintf("A job of type %s with %s = \"aws:kms\" needs the KMS key's ARN.", typ, argEncryptionType))
			}
		case "AES256":
			if !m.EncryptionKMSKeyARN.IsNull() {
				diags.AddAttributeError(pathOf(argEncryptionKMSKeyARN),
					fmt.Sprintf("Argument %s is not valid for encryption type AES256", argEncryptionKMSKeyARN),
					fmt.Sprintf("A job of type %s with %s = \"AES256\" takes no KMS key; use aws:kms or remove the key.", typ, argEncryptionType))
			}
		}
	} else if m.EncryptionType.IsNull() && !m.EncryptionKMSKeyARN.IsNull() && typeTakes(typ, argEncryptionKMSKeyARN) {
		diags.AddAttributeError(pathOf(argEncryptionKMSKeyARN),
			fmt.Sprintf("Argument %s needs %s = \"aws:kms\"", argEncryptionKMSKeyARN, argEncryptionType),
			fmt.Sprintf("For type %s, a KMS key applies only with %s = \"aws:kms\".", typ, argEncryptionType))
	}
	// A composite revision id names its data set: it must be the job's.
	checkRevisionDataSet := func(p path.Path, rev types.String) {
		if !known(rev) || !known(m.DataSetID) {
			return
		}
		if ds, _ := splitRevisionID(rev.ValueString()); ds != "" && ds != m.DataSetID.ValueString() {
			diags.AddAttributeError(p, "Revision of another data set",
				fmt.Sprintf("revision_id %q names data set %s, but the job's data_set_id is %s (type %s).", rev.ValueString(), ds, m.DataSetID.ValueString(), typ))
		}
	}
	checkRevisionDataSet(pathOf(argRevisionID), m.RevisionID)
	for i, d := range listElements[s3RevisionDestinationModel](ctx, m.S3RevisionDestinations, &diags) {
		checkRevisionDataSet(pathOf(argS3RevisionDestinations).AtListIndex(i).AtName("revision_id"), d.RevisionID)
	}
	return diags
}

func known(v interface {
	IsNull() bool
	IsUnknown() bool
}) bool {
	return !v.IsNull() && !v.IsUnknown()
}

// ModifyPlan computes the MD5 of local files to upload (so that a changed
// file replaces the job), and plans null for computed arguments the job's
// type doesn't use.
func (r *jobResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	var plan, config jobModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() || plan.Type.IsUnknown() {
		return
	}
	var state *jobModel
	if !req.State.Raw.IsNull() {
		state = &jobModel{}
		resp.Diagnostics.Append(req.State.Get(ctx, state)...)
	}
	typ := plan.Type.ValueString()
	planHash := func(attr string, configHash, file types.String, takes bool) {
		p := pathOf(attr)
		var planned types.String
		switch {
		case !takes:
			planned = types.StringNull()
		case !configHash.IsNull():
			return
		case file.IsUnknown():
			planned = types.StringUnknown()
		case file.IsNull():
			planned = types.StringNull()
		default:
			sum, err := fileMD5(file.ValueString())
			if err != nil {
				resp.Diagnostics.AddAttributeError(p, "Reading the file to upload", err.Error())
				return
			}
			planned = types.StringValue(sum)
		}
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, p, planned)...)
		if state != nil {
			var was types.String
			resp.Diagnostics.Append(req.State.GetAttribute(ctx, p, &was)...)
			if !planned.Equal(was) {
				resp.RequiresReplace = append(resp.RequiresReplace, p)
			}
		}
	}
	planHash(argMD5Hash, config.MD5Hash, config.SourceFile, typeTakes(typ, argMD5Hash))
	planHash(argAPISpecificationMD5Hash, config.APISpecificationMD5Hash, config.APISpecificationFile, typeTakes(typ, argAPISpecificationMD5Hash))
	if !typeTakes(typ, argAssetName) && !typeTakes(typ, argAssetID) {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, pathOf("signed_url"), types.StringNull())...)
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, pathOf("signed_url_expires_at"), types.StringNull())...)
	}
	if state != nil && plan.WaitForCompletion.ValueBool() && failed(dxtypes.State(state.State.ValueString())) {
		// A job that Terraform waits for ended without completing (an
		// update's wait failed, or it failed after the apply): replace it
		// with a new one, as a tainted job would be.
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, pathOf("state"), types.StringUnknown())...)
		resp.RequiresReplace = append(resp.RequiresReplace, pathOf("state"))
		return
	}
	if state != nil && !resp.Diagnostics.HasError() {
		keepComputedWhenUnchanged(ctx, req, resp)
	}
}

// computedOnly are the job's attributes no configuration sets.
var computedOnly = []string{"id", "arn", "state", "created_at", "last_updated_time", "errors", "signed_url", "signed_url_expires_at"}

// keepComputedWhenUnchanged plans the prior state when nothing but the
// computed attributes differs from it. The framework marks computed
// attributes unknown as soon as the configuration differs from the state in
// any way, including a revision_id that differs only in form, which
// sameRevisionKeepsState then plans as the prior value: without this, such a
// configuration would plan an empty update forever.
func keepComputedWhenUnchanged(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	candidate := resp.Plan
	for _, name := range computedOnly {
		var v attr.Value
		if diags := req.State.GetAttribute(ctx, pathOf(name), &v); diags.HasError() {
			return
		}
		if diags := candidate.SetAttribute(ctx, pathOf(name), v); diags.HasError() {
			return
		}
	}
	if candidate.Raw.Equal(req.State.Raw) {
		resp.Plan = candidate
	}
}

func (r *jobResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan jobModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Create(ctx, defaultCreateTimeout)
	resp.Diagnostics.Append(diags...)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	input, diags := plan.createJobInput(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	out, err := r.c.dataExchange.CreateJob(ctx, input)
	if err != nil {
		resp.Diagnostics.AddError("Creating the DataExchange job", err.Error())
		return
	}
	m := plan
	resp.Diagnostics.Append(m.applyView(ctx, viewOfCreate(out))...)
	// Record the job at once: should a step below fail, Terraform keeps
	// it (tainted) instead of losing track of a job that exists.
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	jobID := aws.ToString(out.Id)

	if err := r.uploadFiles(ctx, &plan, out.Details); err != nil {
		resp.Diagnostics.AddError(fmt.Sprintf("Uploading to job %s", jobID), err.Error())
		return
	}
	if plan.StartOnCreation.ValueBool() {
		if _, err := r.c.dataExchange.StartJob(ctx, &dataexchange.StartJobInput{JobId: out.Id}); err != nil {
			resp.Diagnostics.AddError(fmt.Sprintf("Starting job %s", jobID), err.Error())
			return
		}
	}
	r.finish(ctx, jobID, &m, plan.WaitForCompletion.ValueBool(), &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// finish waits for the job when asked to, then reads it into m, warning
// about a job that failed.
func (r *jobResource) finish(ctx context.Context, jobID string, m *jobModel, wait bool, diags *diag.Diagnostics) {
	var (
		out *dataexchange.GetJobOutput
		err error
	)
	if wait {
		out, err = r.waitForJob(ctx, jobID)
	} else {
		out, err = r.c.dataExchange.GetJob(ctx, &dataexchange.GetJobInput{JobId: aws.String(jobID)})
	}
	if err != nil {
		diags.AddError(fmt.Sprintf("Reading job %s", jobID), err.Error())
		return
	}
	diags.Append(m.applyView(ctx, viewOfGet(out))...)
	if wait && failed(out.State) {
		// The job is recorded all the same: Terraform taints a resource
		// that a failed create saved, and replaces it at the next apply
		// (and ModifyPlan replaces one that a failed update kept).
		summary, detail := jobFailure(jobID, out)
		diags.AddError(summary, detail+"\nThe job is kept in the state, tainted: the next apply replaces it with a new job.")
		return
	}
	warnIfFailed(jobID, out, diags)
}

// failed reports whether a job in state s ended without completing.
func failed(s dxtypes.State) bool {
	return s == dxtypes.StateError || s == dxtypes.StateCancelled || s == dxtypes.StateTimedOut
}

// jobFailure describes a job that ended without completing: the summary and
// the job's errors.
func jobFailure(jobID string, out *dataexchange.GetJobOutput) (summary, detail string) {
	switch out.State {
	case dxtypes.StateTimedOut:
		return fmt.Sprintf("Job %s ended in TIMED_OUT", jobID), "The service stopped the job at its time limit."
	case dxtypes.StateCancelled:
		return fmt.Sprintf("Job %s was CANCELLED", jobID), "The job was cancelled before it ran."
	}
	var lines []string
	for _, e := range out.Errors {
		line := fmt.Sprintf("%s: %s", e.Code, aws.ToString(e.Message))
		if e.ResourceType != "" || e.ResourceId != nil {
			line += fmt.Sprintf(" (%s %s)", e.ResourceType, aws.ToString(e.ResourceId))
		}
		lines = append(lines, line)
	}
	return fmt.Sprintf("Job %s ended in ERROR", jobID),
		"The job's errors (also in its errors attribute):\n" + strings.Join(lines, "\n")
}

// uploadFiles PUTs the job's local files to its upload URLs.
func (r *jobResource) uploadFiles(ctx context.Context, plan *jobModel, d *dxtypes.ResponseDetails) error {
	if d == nil {
		return nil
	}
	if x := d.ImportAssetFromSignedUrl; x != nil && known(plan.SourceFile) {
		return uploadFile(ctx, aws.ToString(x.SignedUrl), plan.SourceFile.ValueString(), plan.MD5Hash.ValueString())
	}
	if x := d.ImportAssetFromApiGatewayApi; x != nil && known(plan.APISpecificationFile) {
		return uploadFile(ctx, aws.ToString(x.ApiSpecificationUploadUrl), plan.APISpecificationFile.ValueString(), plan.APISpecificationMD5Hash.ValueString())
	}
	return nil
}

func terminal(s dxtypes.State) bool {
	switch s {
	case dxtypes.StateCompleted, dxtypes.StateError, dxtypes.StateCancelled, dxtypes.StateTimedOut:
		return true
	}
	return false
}

// waitForJob polls GetJob until the job is in a final state (or still
// WAITING: nobody started it, so there is nothing to wait for).
func (r *jobResource) waitForJob(ctx context.Context, jobID string) (*dataexchange.GetJobOutput, error) {
	limit := r.pollInterval
	if limit == 0 {
		limit = 5 * time.Second
	}
	delay := 250 * time.Millisecond
	for {
		out, err := r.c.dataExchange.GetJob(ctx, &dataexchange.GetJobInput{JobId: aws.String(jobID)})
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("job %s did not reach a final state within the timeout (set timeouts to wait longer): %w", jobID, ctx.Err())
			}
			return nil, err
		}
		if terminal(out.State) || out.State == dxtypes.StateWaiting {
			return out, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("job %s is still %s: it did not reach a final state within the timeout (set timeouts to wait longer)", jobID, out.State)
		case <-time.After(delay):
		}
		delay = min(delay*2, limit)
	}
}

// warnIfFailed adds a warning for a job that ended in ERROR or TIMED_OUT
// that Terraform did not wait for: the job exists and stays in the state,
// its errors are in the errors attribute. (With wait_for_completion, the
// failure is the apply's: see finish.)
func warnIfFailed(jobID string, out *dataexchange.GetJobOutput, diags *diag.Diagnostics) {
	switch out.State {
	case dxtypes.StateError, dxtypes.StateTimedOut:
		summary, detail := jobFailure(jobID, out)
		diags.AddWarning(summary, detail+
			"\nThe job stays in the state; change an argument (or taint it, or set wait_for_completion) to run a new one.")
	}
}

func (r *jobResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m jobModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	out, err := r.c.dataExchange.GetJob(ctx, &dataexchange.GetJobInput{JobId: aws.String(m.ID.ValueString())})
	if err != nil {
		if isNotFound(err) {
			resp.State.RemoveResource(ctx)
			return
		}
		resp.Diagnostics.AddError(fmt.Sprintf("Reading job %s", m.ID.ValueString()), err.Error())
		return
	}
	was := m.State.ValueString()
	resp.Diagnostics.Append(m.applyView(ctx, viewOfGet(out))...)
	// An imported job: only the id was known.
	if m.StartOnCreation.IsNull() {
		m.StartOnCreation = types.BoolValue(out.State != dxtypes.StateWaiting)
	}
	if m.WaitForCompletion.IsNull() {
		m.WaitForCompletion = types.BoolValue(false)
	}
	if was != string(out.State) {
		warnIfFailed(aws.ToString(out.Id), out, &resp.Diagnostics)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// Update changes nothing of the job itself (every argument of the job
// replaces it): it starts a WAITING job when start_on_creation turns true,
// and waits when asked to.
func (r *jobResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state jobModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Update(ctx, defaultUpdateTimeout)
	resp.Diagnostics.Append(diags...)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	jobID := state.ID.ValueString()
	m := plan
	if plan.StartOnCreation.ValueBool() && !state.StartOnCreation.ValueBool() {
		out, err := r.c.dataExchange.GetJob(ctx, &dataexchange.GetJobInput{JobId: aws.String(jobID)})
		if err != nil {
			resp.Diagnostics.AddError(fmt.Sprintf("Reading job %s", jobID), err.Error())
			return
		}
		if out.State == dxtypes.StateWaiting {
			if _, err := r.c.dataExchange.StartJob(ctx, &dataexchange.StartJobInput{JobId: aws.String(jobID)}); err != nil {
				resp.Diagnostics.AddError(fmt.Sprintf("Starting job %s", jobID), err.Error())
				return
			}
		} else {
			resp.Diagnostics.AddWarning(fmt.Sprintf("Job %s was not started", jobID),
				fmt.Sprintf("start_on_creation turned true, but the job is %s, not WAITING: there is nothing to start.", out.State))
		}
	}
	r.finish(ctx, jobID, &m, plan.WaitForCompletion.ValueBool(), &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// Delete cancels a WAITING job; a job in any other state can't be cancelled
// (in progress) or is over, so Terraform just forgets it.
func (r *jobResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m jobModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	id := aws.String(m.ID.ValueString())
	out, err := r.c.dataExchange.GetJob(ctx, &dataexchange.GetJobInput{JobId: id})
	var notFound *dxtypes.ResourceNotFoundException
	if errors.As(err, &notFound) {
		return
	}
	if err != nil {
		resp.Diagnostics.AddError(fmt.Sprintf("Reading job %s", *id), err.Error())
		return
	}
	if out.State != dxtypes.StateWaiting {
		return
	}
	_, err = r.c.dataExchange.CancelJob(ctx, &dataexchange.CancelJobInput{JobId: id})
	var conflict *dxtypes.ConflictException
	switch {
	case err == nil, errors.As(err, &notFound):
	case errors.As(err, &conflict):
		// Started or ended meanwhile: nothing to cancel any more.
	default:
		resp.Diagnostics.AddError(fmt.Sprintf("Cancelling job %s", *id), err.Error())
	}
}
